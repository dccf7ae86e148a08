import { describe, expect, it } from 'vitest';
import {
  OwnershipIndex,
  configMapKey,
  nodeKey,
  podKey,
  referencedObjects,
  secretKey,
  type PodLike,
} from '../../../src/cloud/sync/ownership.js';
import { nodeName } from '../../../src/protocol/index.js';

const pod = (node: string | undefined, spec: Partial<NonNullable<PodLike['spec']>> = {}): PodLike => ({
  metadata: { namespace: 'ns', name: 'p' },
  spec: { ...(node === undefined ? {} : { nodeName: node }), containers: [], ...spec },
});

describe('cloud sync — ownership', () => {
  it('ownership — finds ConfigMaps and Secrets in volumes, env, envFrom, projected and imagePullSecrets', () => {
    const refs = referencedObjects(
      pod('a', {
        volumes: [
          { configMap: { name: 'v-cm' } },
          { secret: { secretName: 'v-s' } },
          { projected: { sources: [{ configMap: { name: 'p-cm' } }, { secret: { name: 'p-s' } }] } },
        ],
        containers: [
          {
            env: [
              { valueFrom: { configMapKeyRef: { name: 'e-cm' } } },
              { valueFrom: { secretKeyRef: { name: 'e-s' } } },
            ],
            envFrom: [{ configMapRef: { name: 'ef-cm' } }, { secretRef: { name: 'ef-s' } }],
          },
        ],
        initContainers: [{ envFrom: [{ configMapRef: { name: 'i-cm' } }] }],
        imagePullSecrets: [{ name: 'pull' }],
      }),
    );
    expect(refs.map((k) => `${k.kind}/${k.name}`).sort()).toEqual(
      [
        'ConfigMap/e-cm',
        'ConfigMap/ef-cm',
        'ConfigMap/i-cm',
        'ConfigMap/p-cm',
        'ConfigMap/v-cm',
        'Secret/e-s',
        'Secret/ef-s',
        'Secret/p-s',
        'Secret/pull',
        'Secret/v-s',
      ].sort(),
    );
  });

  it('ownership — a node gets its pods and what they reference, never another node’s', () => {
    const idx = new OwnershipIndex();
    idx.updatePod(podKey('ns', 'pa'), pod('a', { volumes: [{ configMap: { name: 'cfg' } }] }));
    idx.updatePod(podKey('ns', 'pb'), pod('b', { volumes: [{ secret: { secretName: 'sec' } }] }));
    const a = nodeName('a');
    const b = nodeName('b');
    expect(idx.belongs(a, podKey('ns', 'pa'))).toBe(true);
    expect(idx.belongs(a, podKey('ns', 'pb'))).toBe(false);
    expect(idx.belongs(a, configMapKey('ns', 'cfg'))).toBe(true);
    expect(idx.belongs(b, configMapKey('ns', 'cfg'))).toBe(false);
    expect(idx.belongs(a, secretKey('ns', 'sec'))).toBe(false);
    expect(idx.belongs(a, nodeKey('a'))).toBe(true);
    expect(idx.belongs(a, nodeKey('b'))).toBe(false);
    expect(idx.referrersOf(configMapKey('ns', 'cfg'))).toEqual([a]);
  });

  it('ownership — a ConfigMap no pod of a node references any more stops belonging to it', () => {
    const idx = new OwnershipIndex();
    const a = nodeName('a');
    idx.updatePod(podKey('ns', 'p1'), pod('a', { volumes: [{ configMap: { name: 'cfg' } }] }));
    idx.updatePod(podKey('ns', 'p2'), pod('a', { volumes: [{ configMap: { name: 'cfg' } }] }));
    expect(idx.updatePod(podKey('ns', 'p1'), undefined).map((x) => x.key.kind)).toEqual(['Pod']);
    expect(idx.belongs(a, configMapKey('ns', 'cfg'))).toBe(true);
    const affected = idx.updatePod(podKey('ns', 'p2'), pod('a'));
    expect(affected.map((x) => `${x.node}:${x.key.kind}/${x.key.name}`)).toContain('a:ConfigMap/cfg');
    expect(idx.belongs(a, configMapKey('ns', 'cfg'))).toBe(false);
    expect(idx.keysOf(a)).toEqual([podKey('ns', 'p2')]);
  });

  it('ownership — an unbound pod belongs to no node; binding it affects the new node', () => {
    const idx = new OwnershipIndex();
    expect(idx.updatePod(podKey('ns', 'p'), pod(undefined))).toEqual([]);
    const affected = idx.updatePod(podKey('ns', 'p'), pod('a'));
    expect(affected).toEqual([{ node: 'a', key: podKey('ns', 'p') }]);
  });
});
