import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerEdgeHealth } from '../../src/cli/commands/edge-health.js';
import type { CriRuntime } from '../../src/edge/cri/index.js';
import { ChannelHarness, eventually } from '../support/channel.js';
import { kubectl } from '../support/controlplane.js';
import { CRI_SOCKET, SHELL_IMAGE, newRuntime } from '../edge/pods/helpers.js';
import {
  apiEndpoint,
  removeEdgeProcess,
  startEdgeProcess,
  type EdgeProcess,
} from '../edge/node/edge-process.js';

/** Runs `tether edge health <args>` through its command definition and returns what it printed. */
async function runEdgeHealth(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerEdgeHealth(program.command('edge'));
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    lines.push(a.map(String).join(' '));
  });
  try {
    await program.parseAsync(['edge', 'health', ...args], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

interface PodJson {
  metadata: { uid: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      containerID?: string;
      state?: Record<string, unknown>;
    }[];
  };
}

/**
 * Issue 7 end to end: a real `tether edge run` process on the shared test containerd, a real
 * kubectl against the control plane, the pod's whole life through the channel.
 */
describe('edge pods end to end (tether edge run + kubectl + containerd)', () => {
  const h = new ChannelHarness();
  let rt: CriRuntime;
  let edge: EdgeProcess | undefined;

  beforeAll(async () => {
    await h.start();
    await h.startCloud();
    rt = newRuntime(CRI_SOCKET);
    await rt.start();
  });
  afterAll(async () => {
    if (edge !== undefined) await removeEdgeProcess(edge, rt);
    await rt.stop();
    await h.stop();
  });

  it(
    'edge pods — kubectl apply → Running and Ready with podIP and containerd IDs; kubectl delete → containers removed, pod gone',
    { timeout: 180_000 },
    async () => {
      const name = 'edge-pods';
      edge = await startEdgeProcess(h, name, { criSocket: CRI_SOCKET });
      const e = edge;
      const node = await eventually(
        async () => {
          const r = await kubectl(h.cp, ['get', 'node', name, '-o', 'json'], { allowFailure: true });
          if (r.code !== 0) return false;
          const n = JSON.parse(r.stdout) as {
            status: {
              conditions?: { type: string; status: string }[];
              nodeInfo: { containerRuntimeVersion: string };
            };
          };
          return n.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : false;
        },
        `node ${name} Ready (edge output: ${e.proc.output()})`,
        60_000,
      );
      // The runtime version comes from CRI Version, not a placeholder.
      expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/\d/);

      const manifest = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'default' },
        spec: {
          nodeName: name,
          // No automountServiceAccountToken: false — against upstream this pod gets the projected
          // kube-api-access volume and its token through the cloud (docs/kubelet.md).
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'httpd',
              image: SHELL_IMAGE,
              command: ['httpd', '-f', '-p', '8080'],
              ports: [{ containerPort: 8080 }],
              readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      };
      await kubectl(h.cp, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });

      const pod = await eventually(
        async () => {
          const p = JSON.parse((await kubectl(h.cp, ['get', 'pod', 'web', '-o', 'json'])).stdout) as PodJson;
          const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status;
          return p.status?.phase === 'Running' && ready === 'True' ? p : false;
        },
        `pod web Running and Ready (edge output: ${e.proc.output()})`,
        90_000,
      );
      expect(pod.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const cs = pod.status?.containerStatuses?.[0];
      expect(cs?.name).toBe('httpd');
      expect(cs?.ready).toBe(true);
      expect(cs?.state).toHaveProperty('running');
      expect(cs?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      const id = (cs?.containerID ?? '').slice('containerd://'.length);

      // The container the API names is the one running in containerd, labelled with the pod's uid.
      const running = await rt.listContainers({ labels: { 'io.kubernetes.pod.uid': pod.metadata.uid } });
      expect(running.map((c) => c.id)).toContain(id);
      expect(running.find((c) => c.id === id)?.state).toBe('running');

      // The local endpoint answers /health with the token only.
      const ep = await apiEndpoint(e);
      expect((await fetch(new URL('/health', ep.url))).status).toBe(401);

      await kubectl(h.cp, ['delete', 'pod', 'web', '--timeout=90s'], { timeoutMs: 100_000 });
      const gone = await kubectl(h.cp, ['get', 'pod', 'web', '-o', 'json'], { allowFailure: true });
      expect(gone.code).not.toBe(0);
      expect(gone.stderr).toMatch(/NotFound|not found/);
      await eventually(
        async () =>
          (await rt.listContainers({ labels: { 'io.kubernetes.pod.uid': pod.metadata.uid } })).length === 0,
        'containers of the deleted pod removed on the edge',
        30_000,
      );
      await eventually(
        async () =>
          (await rt.listPodSandbox({ labels: { 'io.kubernetes.pod.uid': pod.metadata.uid } })).length === 0,
        'sandbox of the deleted pod removed on the edge',
        30_000,
      );

      // `tether edge health` reads the same endpoint and prints the units as a table.
      const out = await runEdgeHealth(['--config', e.configFile]);
      expect(out).toMatch(/^VERDICT: (Healthy|Degraded|Unhealthy)/m);
      expect(out).toMatch(/^runtime\s+yesno\s+yes\s+ok\b/m);
      const json = JSON.parse(await runEdgeHealth(['--config', e.configFile, '-o', 'json'])) as {
        units: { unit: string; state: string }[];
      };
      expect(json.units.find((u) => u.unit === 'runtime')?.state).toBe('ok');
    },
  );
});
