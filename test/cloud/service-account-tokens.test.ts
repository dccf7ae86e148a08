import { ApiException, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/index.js';
import type { EdgeSession } from '../../src/cloud/hub/index.js';
import { answerServiceAccountToken } from '../../src/cloud/sync/index.js';
import { messageId, nodeName, type Body, type Envelope } from '../../src/protocol/index.js';

type Core = Pick<CoreV1Api, 'readNamespacedPod' | 'createNamespacedServiceAccountToken'>;

/** A hand-written fake of the two CoreV1Api calls the handler makes (narrow interface). */
function fakeCore(pod: V1Pod | undefined, tokenStatus?: number): { core: Core; requests: unknown[] } {
  const requests: unknown[] = [];
  const core = {
    readNamespacedPod: () =>
      pod === undefined
        ? Promise.reject(new ApiException(404, 'not found', '{"message":"pods \\"p\\" not found"}', {}))
        : Promise.resolve(pod),
    createNamespacedServiceAccountToken: (req: unknown) => {
      requests.push(req);
      if (tokenStatus !== undefined)
        return Promise.reject(
          new ApiException(
            tokenStatus,
            'err',
            '{"message":"the server could not find the requested resource"}',
            {},
          ),
        );
      return Promise.resolve({
        spec: { audiences: [] },
        status: { token: 'a.b.c', expirationTimestamp: new Date('2030-01-01T00:00:00Z') },
      });
    },
  } as unknown as Core;
  return { core, requests };
}

function session(node: string): { s: EdgeSession; sent: Body[] } {
  const sent: Body[] = [];
  return {
    s: { node: nodeName(node), send: (b: Body) => (sent.push(b), true) } as unknown as EdgeSession,
    sent,
  };
}

const query = {
  kind: 'query',
  id: messageId('q1'),
  method: 'serviceAccountToken',
  params: {
    namespace: 'default',
    pod: 'p',
    podUid: 'u1',
    serviceAccountName: 'default',
    expirationSeconds: 3607,
  },
} as unknown as Envelope<'query'>;

const pod = (node: string, uid = 'u1', sa = 'default'): V1Pod => ({
  metadata: { name: 'p', namespace: 'default', uid },
  spec: { nodeName: node, serviceAccountName: sa, containers: [] },
});

describe('cloud/sync service account tokens', () => {
  it('cloud/sync — a node gets a TokenRequest bound to its own pod', async () => {
    const { core, requests } = fakeCore(pod('edge-1'));
    const { s, sent } = session('edge-1');
    await answerServiceAccountToken(core, s, query, silentLogger());
    expect(sent).toEqual([
      {
        kind: 'reply',
        ref: 'q1',
        method: 'serviceAccountToken',
        result: { token: 'a.b.c', expirationTimestamp: '2030-01-01T00:00:00.000Z' },
      },
    ]);
    expect(requests).toMatchObject([
      {
        name: 'default',
        namespace: 'default',
        body: {
          kind: 'TokenRequest',
          spec: {
            audiences: [],
            expirationSeconds: 3607,
            boundObjectRef: { kind: 'Pod', name: 'p', uid: 'u1' },
          },
        },
      },
    ]);
  });

  it('cloud/sync — NodeRestriction: another node’s pod, another incarnation or service account, or a missing pod are refused', async () => {
    const cases: [V1Pod | undefined, string][] = [
      [pod('edge-2'), 'FORBIDDEN'],
      [pod('edge-1', 'u2'), 'FORBIDDEN'],
      [pod('edge-1', 'u1', 'admin'), 'FORBIDDEN'],
      [undefined, 'NOT_FOUND'],
    ];
    for (const [p, code] of cases) {
      const { core, requests } = fakeCore(p);
      const { s, sent } = session('edge-1');
      await answerServiceAccountToken(core, s, query, silentLogger());
      expect(sent).toMatchObject([{ kind: 'reply', ref: 'q1', method: 'error', code }]);
      expect(requests).toHaveLength(0);
    }
  });

  it('cloud/sync — an API server without serviceaccounts/token answers a clear NOT_FOUND', async () => {
    const { core } = fakeCore(pod('edge-1'), 404);
    const { s, sent } = session('edge-1');
    await answerServiceAccountToken(core, s, query, silentLogger());
    expect(sent).toMatchObject([{ method: 'error', code: 'NOT_FOUND' }]);
    expect((sent[0] as { message: string }).message).toMatch(
      /HTTP 404: the server could not find the requested resource/,
    );
  });
});
