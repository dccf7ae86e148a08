import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeConfigSchema, validateConfig } from '../../../src/cli/config.js';
import { startEdge, type RunningEdge } from '../../../src/cli/edge.js';
import { CertificateAuthority, createCsr } from '../../../src/common/index.js';

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a !== null ? a.port : 0 });
    });
  });
}

describe('edge composition root (startEdge)', () => {
  let dir: string;
  let edge: RunningEdge | undefined;
  let blocker: Server | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tether-root-'));
    const ca = await CertificateAuthority.create('root-test');
    const { csrPem, keyPem } = await createCsr('edge-root');
    await writeFile(path.join(dir, 'e.crt'), await ca.signClientCsr(csrPem, 'edge-root', ['tether:edges']));
    await writeFile(path.join(dir, 'e.key'), keyPem);
    await writeFile(path.join(dir, 'ca.crt'), ca.certPem);
  });
  afterEach(async () => {
    await edge?.stop();
    edge = undefined;
    if (blocker !== undefined) await new Promise((r) => blocker?.close(r));
    blocker = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('edge root — a taken MQTT port does not stop the edge: it starts offline, the mqtt unit fails, the local API serves', async () => {
    const b = await listen();
    blocker = b.server;
    const closed = await listen();
    await new Promise((r) => closed.server.close(r));
    const cfg = validateConfig(
      {
        nodeName: 'edge-root',
        dataDir: path.join(dir, 'data'),
        // Nothing listens here: the edge starts offline, as it must be able to.
        cloud: {
          url: `wss://127.0.0.1:${closed.port}`,
          certFile: path.join(dir, 'e.crt'),
          keyFile: path.join(dir, 'e.key'),
          caFile: path.join(dir, 'ca.crt'),
        },
        pods: { enabled: false },
        devices: { bus: { mode: 'embedded', host: '127.0.0.1', port: b.port } },
        api: { port: 0 },
        health: { units: { mqtt: { sampleIntervalMs: 100, freshnessMs: 1000 } } },
        logLevel: 'error',
      },
      EdgeConfigSchema,
      'edge configuration',
    );
    edge = await startEdge(cfg);
    expect(edge.pods).toBeUndefined();
    expect(edge.devices?.health().running).toBe(false);
    expect(edge.api?.listening).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The mqtt unit turns from unknown (bus not yet attempted at start-up) to failed.
    const deadline = Date.now() + 10_000;
    let state: string | undefined;
    while (Date.now() < deadline) {
      state = edge.health.evaluate().units.find((u) => u.unit === 'mqtt')?.state;
      if (state === 'fail') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toBe('fail');
    expect(edge.health.evaluate().verdict).not.toBe('Healthy');
    // The start-up check ran before pods would have started and admitted them (no critical failure).
    expect(edge.health.startupReport.admitNewPods).toBe(true);
  });
});
