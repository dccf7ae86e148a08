import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  apiVersionOf,
  coalesceKey,
  createMessageIdGenerator,
  DELIVERY,
  formatKey,
  keyFromObject,
  keyId,
  KINDS,
  maySend,
  mayReceive,
  messageId,
  parseKeyId,
  sameKey,
  type ObjectKey,
} from '../../src/protocol/index.js';
import { EXAMPLES, podObject, podStatus, podSync } from './samples.js';

// Strings heavy in the separator and escape characters, to attack the canonical form.
const part = fc.string({
  unit: fc.constantFrom('a', '/', '%', '~', '2', 'F', '7', 'E', '5', ''),
  maxLength: 8,
});
const objectKey: fc.Arbitrary<ObjectKey> = fc
  .record({
    group: part,
    version: part,
    kind: part,
    name: part,
    namespace: fc.option(part, { nil: undefined }),
  })
  .map(({ namespace, ...k }) => (namespace === undefined ? k : { ...k, namespace }));

describe('protocol ids — ObjectKey', () => {
  it('protocol — keyId is injective and parseKeyId inverts it', () => {
    fc.assert(
      fc.property(objectKey, objectKey, (a, b) => {
        expect(keyId(a) === keyId(b)).toBe(sameKey(a, b));
        const back = parseKeyId(keyId(a));
        expect(back.ok && sameKey(back.value, a)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('protocol — absent namespace and empty namespace are different keys', () => {
    const a: ObjectKey = { group: '', version: 'v1', kind: 'Node', name: 'n' };
    const b: ObjectKey = { ...a, namespace: '' };
    expect(keyId(a)).not.toBe(keyId(b));
    expect(keyId(a)).toBe('/v1/Node/~/n');
    expect(keyId({ group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'a/b', name: '%~' })).toBe(
      'apps/v1/Deployment/a%2Fb/%25%7E',
    );
  });

  it('protocol — parseKeyId refuses every non-canonical spelling', () => {
    for (const bad of [
      '',
      'a/b/c/d',
      'a/b/c/d/e/f',
      'a/b/c/%2f/e',
      'a/b/c/%41/e',
      'a/b/c/d/%',
      'a/b/c/~x/e',
      '~/v1/Pod/ns/n',
    ]) {
      const r = parseKeyId(bad);
      expect(r.ok ? 'parsed' : r.error.code).toBe('INVALID_FIELD');
    }
  });

  it('protocol — keyFromObject reads apiVersion, kind and metadata', () => {
    const pod = keyFromObject(podObject(3));
    expect(pod).toEqual({
      ok: true,
      value: { group: '', version: 'v1', kind: 'Pod', namespace: 'default', name: 'web-7d9f8b6c5d-x3k2p' },
    });
    const dep = keyFromObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'prod' },
    });
    expect(dep.ok && apiVersionOf(dep.value)).toBe('apps/v1');
    expect(dep.ok && formatKey(dep.value)).toBe('apps/v1 Deployment prod/web');
    const node = keyFromObject({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-1' } });
    expect(node.ok && node.value.namespace).toBeUndefined();
    expect(node.ok && apiVersionOf(node.value)).toBe('v1');
  });

  it.each([
    [null, ''],
    [[], ''],
    [{ kind: 'Pod', metadata: { name: 'x' } }, 'apiVersion'],
    [{ apiVersion: 'a/b/c', kind: 'Pod', metadata: { name: 'x' } }, 'apiVersion'],
    [{ apiVersion: '/v1', kind: 'Pod', metadata: { name: 'x' } }, 'apiVersion'],
    [{ apiVersion: 'v1', metadata: { name: 'x' } }, 'kind'],
    [{ apiVersion: 'v1', kind: 'Pod' }, 'metadata'],
    [{ apiVersion: 'v1', kind: 'Pod', metadata: {} }, 'metadata.name'],
    [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 3 } }, 'metadata.namespace'],
  ])('protocol — keyFromObject refuses %j at %s', (obj, path) => {
    const r = keyFromObject(obj);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('INVALID_FIELD');
      expect(r.error.path).toBe(path);
    }
  });

  it('protocol — message id generators never repeat', () => {
    const next = createMessageIdGenerator();
    const other = createMessageIdGenerator('edge');
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      seen.add(next());
      seen.add(other());
    }
    expect(seen.size).toBe(20_000);
  });
});

describe('protocol delivery — the DELIVERY table', () => {
  it('protocol — every kind has a rule; the reliable ones are sync down and status up', () => {
    expect(Object.keys(DELIVERY).sort()).toEqual([...KINDS].sort());
    const acked = KINDS.filter((k) => DELIVERY[k].acked);
    expect(acked.sort()).toEqual(['status', 'sync']);
    expect(DELIVERY.sync.direction).toBe('down');
    expect(DELIVERY.status.direction).toBe('up');
    for (const k of KINDS) {
      const answer = DELIVERY[k].answer;
      if (answer !== null) expect(KINDS).toContain(answer);
    }
  });

  it('protocol — direction decides who may send and receive each kind', () => {
    expect(mayReceive('edge', 'sync')).toBe(true);
    expect(mayReceive('cloud', 'sync')).toBe(false);
    expect(maySend('edge', 'hello')).toBe(true);
    expect(maySend('cloud', 'hello')).toBe(false);
    expect(maySend('cloud', 'streamOpen')).toBe(true);
    expect(mayReceive('cloud', 'ping') && mayReceive('edge', 'ping')).toBe(true);
    for (const e of EXAMPLES) expect(maySend('cloud', e.kind) || maySend('edge', e.kind)).toBe(true);
  });

  it('protocol — coalescing keys: one per object downstream, per object and write type upstream, never for events', () => {
    const newer = { ...podSync, id: messageId('c1.999'), seq: 2000 };
    expect(coalesceKey(newer)).toBe(coalesceKey(podSync));
    const lease = { ...podStatus, write: { type: 'lease' as const, payload: {} } };
    expect(coalesceKey(lease)).not.toBe(coalesceKey(podStatus));
    expect(coalesceKey({ ...podStatus, id: messageId('other') })).toBe(coalesceKey(podStatus));
    const ev1 = { ...podStatus, write: { type: 'event' as const, payload: {} } };
    const ev2 = { ...ev1, id: messageId('e7.2') };
    expect(coalesceKey(ev1)).not.toBe(coalesceKey(ev2));
  });
});
