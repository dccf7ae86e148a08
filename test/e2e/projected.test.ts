import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CriRuntime } from '../../src/edge/cri/index.js';
import { ChannelHarness, eventually } from '../support/channel.js';
import { kubectl } from '../support/controlplane.js';
import { CRI_SOCKET, SHELL_IMAGE, newRuntime } from '../edge/pods/helpers.js';
import { removeEdgeProcess, startEdgeProcess, type EdgeProcess } from '../edge/node/edge-process.js';

interface PodJson {
  metadata: { uid: string };
  spec: { volumes?: { name: string; projected?: unknown }[] };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; state?: { waiting?: { reason?: string } } }[];
  };
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The claims of a JWT (its payload, base64url JSON); the signature is the API server's business. */
function jwtClaims(token: string): Record<string, unknown> {
  const parts = token.trim().split('.');
  expect(parts).toHaveLength(3);
  return JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Projected volumes and service account tokens at the edge: a pod that keeps the default
 * automountServiceAccountToken gets the kube-api-access volume (upstream's ServiceAccount
 * admission adds it); the edge asks the cloud for a TokenRequest bound to the pod.
 */
describe('projected service account volumes end to end (tether edge run + containerd)', () => {
  const h = new ChannelHarness();
  let rt: CriRuntime;
  let edge: EdgeProcess | undefined;
  const name = 'edge-projected';

  beforeAll(async () => {
    await h.start();
    await h.startCloud();
    rt = newRuntime(CRI_SOCKET);
    await rt.start();
    edge = await startEdgeProcess(h, name, { criSocket: CRI_SOCKET });
    const e = edge;
    await eventually(
      async () => {
        const r = await kubectl(h.cp, ['get', 'node', name, '-o', 'json'], { allowFailure: true });
        if (r.code !== 0) return false;
        const n = JSON.parse(r.stdout) as { status: { conditions?: { type: string; status: string }[] } };
        return n.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      },
      `node ${name} Ready (edge output: ${e.proc.output()})`,
      60_000,
    );
  }, 120_000);
  afterAll(async () => {
    if (edge !== undefined) await removeEdgeProcess(edge, rt);
    await rt.stop();
    await h.stop();
  });

  const getPod = async (pod: string): Promise<PodJson> =>
    JSON.parse((await kubectl(h.cp, ['get', 'pod', pod, '-o', 'json'])).stdout) as PodJson;

  it(
    'projected — a pod with the default service account token runs; the token file is a JWT bound to the pod',
    { timeout: 180_000 },
    async () => {
      const e = edge;
      if (e === undefined) throw new Error('no edge');
      const podName = 'sa-pod';
      // No volume spelled out: the API server's ServiceAccount admission adds kube-api-access-*
      // (upstream, and the embedded server since it implements TokenRequest).
      const manifest = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: podName, namespace: 'default' },
        spec: {
          nodeName: name,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'c',
              image: SHELL_IMAGE,
              command: ['sleep', '3600'],
              // Ready only if the container itself sees a non-empty token file.
              readinessProbe: { exec: { command: ['test', '-s', `${SA_DIR}/token`] }, periodSeconds: 1 },
            },
          ],
        },
      };
      await kubectl(h.cp, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });

      let last = '';
      const outcome = await eventually(
        async () => {
          const p = await getPod(podName);
          last = JSON.stringify(p.status);
          const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status;
          if (p.status?.phase === 'Running' && ready === 'True') return { pod: p };
          const ev = await kubectl(h.cp, ['get', 'events', '-n', 'default', '-o', 'json']);
          const events = (
            JSON.parse(ev.stdout) as {
              items: { reason?: string; message?: string; involvedObject?: { name?: string } }[];
            }
          ).items.filter((x) => x.involvedObject?.name === podName && x.reason === 'FailedMount');
          last += ` events: ${JSON.stringify(events.map((x) => x.message))}`;
          return false;
        },
        `pod ${podName} Running and Ready (edge output: ${e.proc.output()})`,
        120_000,
      ).catch((err: unknown) => {
        throw new Error(
          `${String(err)}; pod status and FailedMount events: ${last}; edge: ${e.proc.output()}`,
        );
      });

      const pod = outcome.pod;
      const vol = pod.spec.volumes?.find(
        (v) => v.projected !== undefined && v.name.startsWith('kube-api-access-'),
      );
      expect(vol).toBeDefined();
      const dir = path.join(
        e.dataDir,
        'pods',
        pod.metadata.uid,
        'volumes',
        'kubernetes.io~projected',
        vol?.name ?? '',
      );
      expect((await readdir(dir)).filter((f) => !f.startsWith('..')).sort()).toEqual([
        'ca.crt',
        'namespace',
        'token',
      ]);
      expect(await readFile(path.join(dir, 'namespace'), 'utf8')).toBe('default');
      const claims = jwtClaims(await readFile(path.join(dir, 'token'), 'utf8'));
      expect(claims['sub']).toBe('system:serviceaccount:default:default');
      const k8s = claims['kubernetes.io'] as {
        namespace?: string;
        pod?: { name?: string; uid?: string };
        node?: { name?: string };
      };
      expect(k8s.namespace).toBe('default');
      expect(k8s.pod).toEqual({ name: podName, uid: pod.metadata.uid });
      expect(await readFile(path.join(dir, 'ca.crt'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
      await kubectl(h.cp, ['delete', 'pod', podName, '--wait=false']);
    },
  );
});
