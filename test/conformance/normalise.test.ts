// The differential runner's pure parts: normalisation, diffing, templates and the corpus'
// own consistency. These run everywhere, with or without either server.
import { describe, expect, it } from 'vitest';
import { COMPACTION_CORPUS, CORPUS, KNOWN_DIFFERENCES } from './corpus.js';
import {
  caseNamespace,
  compareResults,
  diff,
  expand,
  isKnown,
  normalise,
  stepMatches,
  type Response,
  type StepResult,
} from './differential.js';

const upstreamCm = {
  kind: 'ConfigMap',
  apiVersion: 'v1',
  metadata: {
    name: 'gen-x7k2p',
    generateName: 'gen-',
    namespace: 'diff-abc123-configmaps',
    uid: '0b7c3f0e-8f55-4d5e-9a3a-2b1b8e0e1a11',
    resourceVersion: '1234',
    creationTimestamp: '2026-11-26T18:00:00Z',
    managedFields: [{ manager: 'curl', operation: 'Update' }],
  },
  data: { mode: 'edge' },
};

describe('conformance normalise', () => {
  it('conformance — normalise masks per-server values but keeps their presence', () => {
    const n = normalise(upstreamCm, 'abc123') as { metadata: Record<string, unknown> };
    expect(n.metadata).toEqual({
      name: 'gen-<generated>',
      generateName: 'gen-',
      namespace: 'diff-<run>-configmaps',
      uid: '<uid>',
      resourceVersion: '<resourceVersion>',
      creationTimestamp: '<creationTimestamp>',
    });
    // Same object from another server: equal after normalisation.
    const other = structuredClone(upstreamCm);
    other.metadata.name = 'gen-q9zz1';
    other.metadata.uid = 'ffffffff-0000-4000-8000-000000000000';
    other.metadata.resourceVersion = '7';
    other.metadata.managedFields = [];
    expect(diff('k', n, normalise(other, 'abc123'))).toEqual([]);
    // A missing uid is a finding, not masked away.
    const { uid: _uid, ...noUid } = other.metadata;
    expect(diff('k', n, normalise({ ...other, metadata: noUid }, 'abc123'))).toEqual([
      { key: 'k', path: '.metadata.uid', upstream: '<uid>', embedded: undefined },
    ]);
  });

  it('conformance — list continue tokens compare by presence, not value', () => {
    const a = normalise({ kind: 'ConfigMapList', metadata: { continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ' } }, '');
    const b = normalise({ kind: 'ConfigMapList', metadata: { continue: 'opaque-2' } }, '');
    const end = normalise({ kind: 'ConfigMapList', metadata: {} }, '');
    expect(diff('k', a, b)).toEqual([]);
    expect(diff('k', a, end)).toHaveLength(1);
  });

  it('conformance — Table Age cells are masked, other cells compared', () => {
    const table = (age: string, data: number) => ({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      columnDefinitions: [{ name: 'Name' }, { name: 'Data' }, { name: 'Age' }],
      rows: [{ cells: ['w-b', data, age], object: { metadata: { name: 'w-b', uid: 'u1' } } }],
    });
    expect(diff('k', normalise(table('1s', 1), ''), normalise(table('2s', 1), ''))).toEqual([]);
    expect(diff('k', normalise(table('1s', 1), ''), normalise(table('1s', 2), ''))).toHaveLength(1);
  });

  it('conformance — compareResults reports status, content type and body differences', () => {
    const step = CORPUS[0]!.steps[0]!;
    const res = (status: number, body: unknown, contentType = 'application/json'): Response => ({
      status,
      contentType,
      body,
    });
    const up: StepResult[] = [{ key: 'c/s', step, response: res(404, { reason: 'NotFound', code: 404 }) }];
    const emb: StepResult[] = [{ key: 'c/s', step, response: res(400, { reason: 'BadRequest', code: 400 }, 'text/plain') }];
    const d = compareResults(up, emb, '');
    expect(d.map((x) => x.path)).toEqual(['status', 'contentType', 'body.code', 'body.reason']);
    expect(isKnown(d[3]!, [{ step: 'c/s', path: 'body', reason: 'r' }])).toBeDefined();
    expect(isKnown(d[3]!, [{ step: 'c/other', path: 'body', reason: 'r' }])).toBeUndefined();
    // Globs: any step; one index segment; a prefix only at a segment boundary.
    const item = { key: 'list/page1', path: 'body.items[3].kind', upstream: undefined, embedded: 'ConfigMap' };
    expect(isKnown(item, [{ step: '*', path: 'body.items[*].kind', reason: 'r' }])).toBeDefined();
    expect(isKnown(item, [{ step: 'list/*', path: 'body.items[*].apiVersion', reason: 'r' }])).toBeUndefined();
    expect(isKnown(item, [{ step: '*', path: 'body.items[3].ki', reason: 'r' }])).toBeUndefined();
    expect(isKnown(item, [{ step: '*', path: 'body.items', reason: 'r' }])).toBeDefined();
  });

  it('conformance — templates expand ns, run and earlier responses (URL-encoded in paths)', () => {
    const results = new Map<string, Response>([
      ['page1', { status: 200, contentType: 'application/json', body: { metadata: { continue: 'a+b/c=' } } }],
    ]);
    const vars = { ns: 'diff-r-x', run: 'r' };
    expect(expand('/api/v1/namespaces/{{ns}}/configmaps?continue={{page1.metadata.continue}}', vars, results, encodeURIComponent)).toBe(
      '/api/v1/namespaces/diff-r-x/configmaps?continue=a%2Bb%2Fc%3D',
    );
    expect(() => expand('{{nope.metadata}}', vars, results)).toThrow(/no earlier step "nope"/);
  });

  it('conformance — the corpus is well formed: unique ids, templates refer to earlier steps', () => {
    const all = [...CORPUS, ...COMPACTION_CORPUS];
    for (const c of all) {
      expect(caseNamespace(c, 'abc123')).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      const seen = new Set<string>();
      for (const s of c.steps) {
        expect(seen.has(s.id), `${c.name}/${s.id} duplicated`).toBe(false);
        const text = `${s.path} ${JSON.stringify(s.body ?? null)}`;
        for (const m of text.matchAll(/\{\{([^}.]+)[^}]*\}\}/g)) {
          const ref = m[1]!;
          expect(ref === 'ns' || ref === 'run' || seen.has(ref), `${c.name}/${s.id} refers to ${ref}`).toBe(true);
        }
        seen.add(s.id);
      }
    }
    const keys = new Set(all.flatMap((c) => c.steps.map((s) => `${c.name}/${s.id}`)));
    for (const k of KNOWN_DIFFERENCES) {
      expect([...keys].some((key) => stepMatches(k, key)), `known difference for no step: ${k.step}`).toBe(true);
    }
  });
});
