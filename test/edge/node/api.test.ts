import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/index.js';
import { LocalApi, LocalApiError, type HealthView } from '../../../src/edge/api/index.js';
import { formatHealth, resolveEndpoint, fetchHealth } from '../../../src/cli/commands/edge-health.js';

const VIEW: HealthView = {
  verdict: 'Degraded',
  statusString: 'runtime=01@10:00:00Z;cloud-link=02@10:00:00Z',
  reasons: ['cloud-link=02 (non-critical unit failed)'],
  at: new Date().toISOString(),
  units: [
    { unit: 'runtime', mode: 'yesno', critical: true, state: 'ok', value: 1, output: '01', stale: false },
    {
      unit: 'cloud-link',
      mode: 'yesno',
      critical: false,
      state: 'fail',
      value: 0,
      output: '02',
      stale: false,
    },
  ],
};

describe('edge/api local endpoint', () => {
  let dir: string;
  let api: LocalApi | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tether-api-'));
  });
  afterEach(async () => {
    await api?.stop();
    api = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<LocalApi> => {
    api = new LocalApi(
      {
        port: 0,
        tokenFile: path.join(dir, 'api.token'),
        endpointFile: path.join(dir, 'api.json'),
      },
      { health: () => VIEW, logger: silentLogger() },
    );
    await api.start();
    return api;
  };

  it('edge/api — token file 0600; /health and /healthz need the bearer token; unknown paths are 404', async () => {
    const a = await start();
    const token = (await readFile(path.join(dir, 'api.token'), 'utf8')).trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(path.join(dir, 'api.token'))).mode & 0o777).toBe(0o600);

    expect((await fetch(`${a.url}/health`)).status).toBe(401);
    const wrong = await fetch(`${a.url}/health`, { headers: { authorization: `Bearer ${'0'.repeat(64)}` } });
    expect(wrong.status).toBe(401);
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const ok = await fetch(`${a.url}/healthz`, auth);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('ok');
    const h = await fetch(`${a.url}/health`, auth);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual(VIEW);
    expect((await fetch(`${a.url}/nope`, auth)).status).toBe(404);
    expect((await fetch(`${a.url}/health`, { ...auth, method: 'POST' })).status).toBe(405);
  });

  it('edge/api — an existing token is kept and tightened to 0600; the endpoint file goes with stop()', async () => {
    await writeFile(path.join(dir, 'api.token'), 'my-token\n', { mode: 0o644 });
    await start();
    expect((await stat(path.join(dir, 'api.token'))).mode & 0o777).toBe(0o600);
    const ep = resolveEndpoint({ dataDir: dir, output: 'table' });
    const view = await fetchHealth(ep);
    expect(view.verdict).toBe('Degraded');
    const table = formatHealth(view);
    expect(table).toMatch(/^VERDICT: Degraded$/m);
    expect(table).toMatch(/^cloud-link\s+yesno\s+no\s+fail\s+0\s+02/m);
    await api?.stop();
    api = undefined;
    expect(existsSync(path.join(dir, 'api.json'))).toBe(false);
  });

  it('edge/api — a taken port is a LocalApiError naming the address', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const addr = blocker.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    try {
      api = new LocalApi(
        { port, tokenFile: path.join(dir, 'api.token') },
        { health: () => VIEW, logger: silentLogger() },
      );
      const e = await api.start().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LocalApiError);
      expect((e as LocalApiError).message).toContain(`127.0.0.1:${port}`);
      api = undefined;
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
