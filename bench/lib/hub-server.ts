/**
 * The cloud hub alone, for bench/hub-memory.ts: `node --import tsx bench/lib/hub-server.ts
 * <config.json>` starts `Hub` (src/cloud/hub) on the config's port with a handler that stores
 * nothing and acks every upstream write, so the process's memory per connection is the hub's:
 * TLS, WebSocket, session, keepalive. Prints `listening <port>` when ready. Bench only.
 */
import { readFileSync } from 'node:fs';
import { Hub, type HubConfig, type HubHandler } from '../../src/cloud/hub/index.js';
import { createRegistry, silentLogger } from '../../src/common/index.js';

const cfg = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as HubConfig;
const registry = createRegistry();
const hub = new Hub(cfg, silentLogger(), registry);
const handler: HubHandler = {
  sessionOpened: () => undefined,
  message: (s, env) => {
    if (env.kind === 'status') s.send({ kind: 'ack', of: 'status', ref: env.id });
  },
  sessionClosed: () => undefined,
};
hub.setHandler(handler);
await hub.start();
process.stdout.write(`listening ${String(hub.port)}\n`);
process.on('SIGTERM', () => {
  void hub.stop().finally(() => process.exit(0));
});
// keep the registry reachable (its metrics are part of the per-session cost)
(globalThis as { registry?: unknown }).registry = registry;
