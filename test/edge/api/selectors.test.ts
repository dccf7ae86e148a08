import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import { LocalApi } from '../../../src/edge/api/index.js';
import { matchLabels, parseFieldSelector, parseLabelSelector } from '../../../src/edge/metaserver/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';

const NAME = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,8}[a-z0-9])?$/);

describe('edge/api selectors', () => {
  it('metaserver — any string given as a label or field selector parses or is refused with a message; never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const l = parseLabelSelector(s);
        if (!l.ok) expect(l.error).toContain('labelSelector');
        const f = parseFieldSelector(s, new Set(['metadata.name', 'spec.nodeName']), 'Pod');
        if (!f.ok) expect(f.error.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('metaserver — a selector built from equality, inequality, set and existence requirements selects exactly what the model says', () => {
    type Req =
      | { op: '='; k: string; v: string }
      | { op: '!='; k: string; v: string }
      | { op: 'in' | 'notin'; k: string; vs: string[] }
      | { op: 'exists' | '!'; k: string };
    const req: fc.Arbitrary<Req> = fc.oneof(
      fc.record({ op: fc.constant('=' as const), k: NAME, v: NAME }),
      fc.record({ op: fc.constant('!=' as const), k: NAME, v: NAME }),
      fc.record({
        op: fc.constantFrom('in' as const, 'notin' as const),
        k: NAME,
        vs: fc.array(NAME, { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ op: fc.constantFrom('exists' as const, '!' as const), k: NAME }),
    );
    const text = (r: Req): string => {
      switch (r.op) {
        case '=':
        case '!=':
          return `${r.k}${r.op}${r.v}`;
        case 'in':
        case 'notin':
          return `${r.k} ${r.op} (${r.vs.join(', ')})`;
        case 'exists':
          return r.k;
        case '!':
          return `!${r.k}`;
      }
    };
    const model = (r: Req, labels: Record<string, string>): boolean => {
      const v = labels[r.k];
      switch (r.op) {
        case '=':
          return v === r.v;
        case '!=':
          return v !== r.v;
        case 'in':
          return v !== undefined && r.vs.includes(v);
        case 'notin':
          return v === undefined || !r.vs.includes(v);
        case 'exists':
          return v !== undefined;
        case '!':
          return v === undefined;
      }
    };
    fc.assert(
      fc.property(
        fc.array(req, { minLength: 1, maxLength: 4 }),
        fc.dictionary(NAME, NAME, { maxKeys: 4 }),
        (reqs, labels) => {
          const parsed = parseLabelSelector(reqs.map(text).join(','));
          expect(parsed.ok).toBe(true);
          if (!parsed.ok) return;
          expect(matchLabels(parsed.value, labels)).toBe(reqs.every((r) => model(r, labels)));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('edge/api bad input over HTTP', () => {
  let dir: string;
  let store: EdgeStore;
  let api: LocalApi;
  let token: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tether-meta-fuzz-'));
    store = new EdgeStore({ path: path.join(dir, 'edge.db') });
    store.open();
    api = new LocalApi(
      { port: 0, tokenFile: path.join(dir, 'api.token') },
      { health: () => undefined, logger: silentLogger(), store, registry: createRegistry() },
    );
    await api.start();
    token = (await readFile(path.join(dir, 'api.token'), 'utf8')).trim();
  });
  afterAll(async () => {
    await api.stop();
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('metaserver — random paths and query parameters get a Kubernetes Status (never a 500, never a hang), and the server keeps serving', async () => {
    const seg = fc.oneof(
      fc.constantFrom(
        'api',
        'apis',
        'v1',
        'namespaces',
        'default',
        'pods',
        'configmaps',
        'watch',
        'status',
        'log',
        '%',
        '%zz',
        '..',
      ),
      fc.string({ maxLength: 6 }).map(encodeURIComponent),
    );
    const param = fc.tuple(
      fc.constantFrom(
        'labelSelector',
        'fieldSelector',
        'resourceVersion',
        'watch',
        'timeoutSeconds',
        'limit',
        'continue',
        'resourceVersionMatch',
        'allowWatchBookmarks',
        'sendInitialEvents',
        'includeObject',
      ),
      fc.string({ maxLength: 12 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(seg, { maxLength: 6 }),
        fc.array(param, { maxLength: 3 }),
        async (segs, params) => {
          const qs = new URLSearchParams(params.filter(([k]) => k !== 'watch' && k !== 'timeoutSeconds'));
          qs.set('timeoutSeconds', '0'); // a watch that does start ends at once
          const r = await fetch(`${api.url}/${segs.join('/')}?${qs.toString()}`, {
            headers: { authorization: `Bearer ${token}` },
            signal: AbortSignal.timeout(10_000),
          });
          const body = await r.text();
          expect(r.status).not.toBe(500);
          // (the client resolves `..` segments itself: judge by the path the server received)
          if (r.status >= 400 && /^\/apis?(\/|$)/.test(new URL(r.url).pathname))
            expect(JSON.parse(body)).toMatchObject({ kind: 'Status', code: r.status });
        },
      ),
      { numRuns: 300 },
    );
    const ok = await fetch(`${api.url}/api/v1/pods`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
  });
});
