/**
 * Patches compared with kube-apiserver v1.34.4, recorded in upstream-v1.34.json: each case is
 * the object as upstream stored it, the patch body, and upstream's dry-run answer (the values
 * at some paths, or the error Status). Upstream defaults fields of newly added list items
 * (imagePullPolicy, terminationMessagePath, ...), which is the REST layer's job, so values are
 * compared as "upstream contains ours" — lists must still have the same items in the same order.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyPatch, type PatchTarget, type PatchType } from '../../../src/apiserver/patch/index.js';

interface Recorded {
  name: string;
  target: PatchTarget;
  type: PatchType;
  patch: string;
  original: Record<string, unknown>;
  upstream:
    { status: number; values: Record<string, unknown> } | { status: number; reason: string; message: string };
}
const { cases } = JSON.parse(readFileSync(new URL('./upstream-v1.34.json', import.meta.url), 'utf8')) as {
  cases: Recorded[];
};

const at = (o: unknown, pointer: string): unknown =>
  pointer
    .split('/')
    .slice(1)
    .reduce<unknown>(
      (x, k) =>
        typeof x === 'object' && x !== null
          ? (x as Record<string, unknown>)[k.replace(/~1/g, '/')]
          : undefined,
      o,
    ) ?? null;

describe('patch — agrees with kube-apiserver v1.34', () => {
  it('upstream — the recording has successes and every error class', () => {
    const statuses = new Set(cases.map((c) => c.upstream.status));
    expect([...statuses].sort()).toEqual([200, 400, 415, 422, 500]);
  });

  for (const c of cases) {
    it(`upstream — ${c.type}: ${c.name}`, () => {
      const r = applyPatch(c.original, c.patch, c.type, c.target);
      const up = c.upstream;
      if ('values' in up) {
        if (!r.ok) throw new Error(`upstream accepted, we answered ${r.error.status} ${r.error.message}`);
        for (const [pointer, value] of Object.entries(up.values)) {
          const ours = at(r.value, pointer);
          if (value === null) expect([pointer, ours]).toEqual([pointer, null]);
          else expect(value, pointer).toMatchObject(ours as object);
        }
      } else {
        if (r.ok) throw new Error(`upstream refused with ${up.status}, we accepted`);
        expect([r.error.status, r.error.reason, r.error.message]).toEqual([up.status, up.reason, up.message]);
      }
    });
  }
});
