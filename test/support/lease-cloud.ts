import { createRegistry, silentLogger } from '../../src/common/index.js';
import { Hub } from '../../src/cloud/hub/index.js';
import { KubeClient } from '../../src/cloud/kube/index.js';
import { SyncController, type SyncControllerOptions } from '../../src/cloud/sync/index.js';
import type { ChannelHarness, Cloud } from './channel.js';

/**
 * A cloud core like ChannelHarness.startCloud's, with all the sync options under test (the harness's
 * startCloud takes only `leases`), and its KubeClient.
 */
export async function startLeaseCloud(
  h: ChannelHarness,
  opts: { keepaliveMs?: number; host?: string; sync?: SyncControllerOptions } = {},
): Promise<Cloud & { kube: KubeClient }> {
  const host = opts.host ?? '127.0.0.1';
  const serving = await h.ca.issueServer('tether-cloud', {
    dnsNames: ['localhost'],
    ips: host === '127.0.0.1' ? ['127.0.0.1'] : ['127.0.0.1', host],
  });
  const registry = createRegistry();
  const hub = new Hub(
    {
      host,
      port: h.hubPort,
      tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: h.ca.certPem },
      settings: { keepaliveMs: opts.keepaliveMs ?? 300, missedPongLimit: 3 },
    },
    silentLogger(),
    registry,
  );
  const kube = new KubeClient(h.kc, silentLogger());
  const sync = new SyncController(kube, hub, silentLogger(), registry, { tickMs: 200, ...opts.sync });
  hub.setHandler(sync);
  await sync.start();
  await hub.start();
  h.hubPort = hub.port;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await hub.stop();
    await sync.stop();
  };
  return { hub, sync, registry, kube, url: `wss://${host}:${hub.port}`, stop };
}
