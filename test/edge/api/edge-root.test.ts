import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeConfigSchema, validateConfig } from '../../../src/cli/config.js';
import { EDGE_FILES, startEdge, type RunningEdge } from '../../../src/cli/edge.js';
import { CertificateAuthority, createCsr } from '../../../src/common/index.js';
import { METASERVER_KUBECONFIG_FILE } from '../../../src/edge/metaserver/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import { resourceVersion, uid } from '../../../src/protocol/index.js';

const run = promisify(execFile);

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise((r) => s.close(r));
  return typeof a === 'object' && a !== null ? a.port : 0;
}

describe('edge/api in the edge composition root', () => {
  let dir: string;
  let edge: RunningEdge | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tether-meta-root-'));
  });
  afterEach(async () => {
    await edge?.stop();
    edge = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('metaserver — `tether edge` started offline serves what its store held through <dataDir>/metaserver.kubeconfig (https, same port as the health endpoint)', async () => {
    const dataDir = path.join(dir, 'data');
    // What a previous run of the agent left in its store.
    const store = new EdgeStore({ path: path.join(dataDir, EDGE_FILES.store) });
    store.open();
    store.applySync({
      kind: 'sync',
      op: 'upsert',
      seq: 1,
      key: { group: '', version: 'v1', kind: 'Pod', namespace: 'default', name: 'kept' },
      uid: uid('u-kept'),
      resourceVersion: resourceVersion('7'),
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'kept', namespace: 'default', uid: 'u-kept', resourceVersion: '7' },
        spec: { nodeName: 'edge-meta-root', containers: [{ name: 'c', image: 'x' }] },
      },
    });
    store.close();

    const ca = await CertificateAuthority.create('meta-root-test');
    const { csrPem, keyPem } = await createCsr('edge-meta-root');
    await writeFile(
      path.join(dir, 'e.crt'),
      await ca.signClientCsr(csrPem, 'edge-meta-root', ['tether:edges']),
    );
    await writeFile(path.join(dir, 'e.key'), keyPem);
    await writeFile(path.join(dir, 'ca.crt'), ca.certPem);
    const cfg = validateConfig(
      {
        nodeName: 'edge-meta-root',
        dataDir,
        // nothing listens here: the cloud is unreachable
        cloud: {
          url: `wss://127.0.0.1:${await closedPort()}`,
          certFile: path.join(dir, 'e.crt'),
          keyFile: path.join(dir, 'e.key'),
          caFile: path.join(dir, 'ca.crt'),
        },
        pods: { enabled: false },
        devices: { enabled: false },
        api: { port: 0 },
        logLevel: 'error',
      },
      EdgeConfigSchema,
      'edge configuration',
    );
    edge = await startEdge(cfg);
    const kubeconfig = path.join(dataDir, METASERVER_KUBECONFIG_FILE);
    expect((await stat(kubeconfig)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dataDir, 'api.key'))).mode & 0o777).toBe(0o600);
    const kc = parse(await readFile(kubeconfig, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[];
    };
    const httpUrl = edge.api?.listening ?? '';
    expect(kc.clusters[0]?.cluster.server).toBe(httpUrl.replace('http://', 'https://'));
    expect(kc.clusters[0]?.cluster['certificate-authority-data']).toBeTruthy();

    const { stdout } = await run(
      '/usr/bin/kubectl',
      ['--kubeconfig', kubeconfig, 'get', 'pods', '-o', 'name'],
      {
        timeout: 30_000,
      },
    );
    expect(stdout).toBe('pod/kept\n');
    // the health endpoint on the same port, plain HTTP, same token
    const token = (await readFile(path.join(dataDir, EDGE_FILES.apiToken), 'utf8')).trim();
    const hz = await fetch(`${httpUrl}/healthz`, { headers: { authorization: `Bearer ${token}` } });
    expect(await hz.text()).toBe('ok');
    // the agent's Prometheus metrics on the same port and token (docs/monitoring.md)
    const metrics = await fetch(`${httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    for (const name of [
      'tether_edge_link_online',
      'tether_edge_outbox_depth',
      'tether_process_resident_memory_bytes',
    ])
      expect(text).toMatch(new RegExp(`^${name} `, 'm'));
    expect((await fetch(`${httpUrl}/metrics`)).status).toBe(401);
  });
});
