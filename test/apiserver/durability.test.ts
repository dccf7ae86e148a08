/** SIGKILL of the API server process during a burst of writes loses nothing acknowledged (issue 3). */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../src/apiserver/index.js';
import { api, configMap, type TestServer } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'tether-apiserver-kill-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function asTestServer(url: string, dataDir: string): TestServer {
  const pki = join(dataDir, 'pki');
  return {
    url,
    kubeconfigPath: join(dataDir, 'admin.kubeconfig'),
    dir,
    home: dir,
    caPem: readFileSync(join(pki, 'ca.crt'), 'utf8'),
    adminCert: readFileSync(join(pki, 'admin.crt'), 'utf8'),
    adminKey: readFileSync(join(pki, 'admin.key'), 'utf8'),
  } as TestServer;
}

describe('apiserver durability', () => {
  it('apiserver durability — SIGKILL mid-burst: every acknowledged create is there after restart', async () => {
    const dataDir = join(dir, 'data');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'serve.ts'), dataDir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n') && line !== undefined) resolve(line.trim());
      });
      child.on('exit', (code) => {
        reject(new Error(`server exited early (${String(code)})`));
      });
    });
    const s = asTestServer(url, dataDir);
    const acked = new Map<string, number>();
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const name = `w${w}-${i}`;
        try {
          const r = await api(
            s,
            'POST',
            '/api/v1/namespaces/default/configmaps',
            configMap(name, { i: String(i) }),
          );
          if (r.status === 201) acked.set(name, Number(r.body.metadata.resourceVersion));
        } catch {
          return; // the connection died with the process
        }
      }
    };
    const writers = [0, 1, 2, 3].map((w) => writer(w));
    while (acked.size < 60) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await new Promise((r) => child.once('exit', r));
    const restarted = await startApiServer({ dataDir });
    try {
      const s2 = asTestServer(restarted.url, dataDir);
      const list = await api(s2, 'GET', '/api/v1/namespaces/default/configmaps');
      const present = new Map<string, number>(
        (list.body.items as any[]).map((i) => [String(i.metadata.name), Number(i.metadata.resourceVersion)]),
      );
      for (const [name, rv] of acked) expect(present.get(name), name).toBe(rv);
      const maxRv = Math.max(...acked.values());
      const after = await api(s2, 'POST', '/api/v1/namespaces/default/configmaps', configMap('after'));
      expect(Number(after.body.metadata.resourceVersion)).toBeGreaterThan(maxRv);
    } finally {
      await restarted.stop();
    }
  });
});
