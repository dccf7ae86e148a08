import { describe, expect, it } from 'vitest';
import { syncVersion } from '../../../src/cloud/sync/index.js';

const raw = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'p',
    namespace: 'default',
    uid: 'u1',
    resourceVersion: '7',
    creationTimestamp: '2026-11-27T09:00:00Z',
  },
  spec: { nodeName: 'edge-1', containers: [{ name: 'c', image: 'i' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
};

describe('cloud/sync version', () => {
  it('syncVersion — a Pod digests its content: not its resourceVersion or status, but its Ready condition; a typed object (Date) like the raw JSON', () => {
    const v = syncVersion('Pod', raw);
    expect(v).toMatch(/^h:/);
    expect(syncVersion('Pod', { ...raw, metadata: { ...raw.metadata, resourceVersion: '8' } })).toBe(v);
    expect(syncVersion('Pod', { ...raw, status: { ...raw.status, phase: 'Failed' } })).toBe(v);
    expect(
      syncVersion('Pod', { ...raw, status: { conditions: [{ type: 'Ready', status: 'False' }] } }),
    ).not.toBe(v);
    expect(syncVersion('Pod', { ...raw, spec: { ...raw.spec, nodeName: 'edge-2' } })).not.toBe(v);
    // client-node's typed list gives Date instances; the informers hold the server's strings
    const typed = {
      ...raw,
      metadata: { ...raw.metadata, creationTimestamp: new Date('2026-11-27T09:00:00Z') },
    };
    expect(syncVersion('Pod', typed)).toBe(v);
    // other kinds: the resourceVersion itself
    expect(syncVersion('ConfigMap', { metadata: { resourceVersion: '42' } })).toBe('42');
  });
});
