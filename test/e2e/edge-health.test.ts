import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelHarness, eventually } from '../support/channel.js';
import { OwnContainerd } from '../support/containerd.js';
import { kubectl } from '../support/controlplane.js';
import { fetchHealth } from '../../src/cli/commands/edge-health.js';
import { tether } from '../support/procs.js';
import { SHELL_IMAGE, newRuntime } from '../edge/pods/helpers.js';
import {
  apiEndpoint,
  removeEdgeProcess,
  startEdgeProcess,
  type EdgeProcess,
} from '../edge/node/edge-process.js';

// A containerd of this test's own (as test/edge/pods/runtime-loss.test.ts does): stopping the
// shared test instance would break every other test running beside this one.

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface EventJson {
  reason: string;
  type: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

describe('edge health end to end (tether edge run, own containerd)', () => {
  const h = new ChannelHarness();
  let dir: string;
  let socket: string;
  let edge: EdgeProcess | undefined;

  let own: OwnContainerd;
  const startContainerd = (): Promise<void> => own.start();
  const killContainerd = (signal: NodeJS.Signals): Promise<void> => own.kill(signal);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tether-eh-'));
    own = new OwnContainerd(dir);
    socket = own.socket;
    await startContainerd();
    await h.start();
    await h.startCloud();
  }, 120_000);

  afterAll(async () => {
    if (edge !== undefined) {
      // Whatever the edge left in this containerd goes with it (the pod of the second test).
      if (!own.running) await startContainerd();
      const rt = newRuntime(socket);
      await rt.start();
      await removeEdgeProcess(edge, rt);
      await rt.stop();
    }
    await killContainerd('SIGTERM');
    await h.stop();
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  });

  const conditions = async (node: string): Promise<Map<string, Condition>> => {
    const r = await kubectl(h.cp, ['get', 'node', node, '-o', 'json'], { allowFailure: true });
    if (r.code !== 0) return new Map();
    const n = JSON.parse(r.stdout) as { status?: { conditions?: Condition[] } };
    return new Map((n.status?.conditions ?? []).map((c) => [c.type, c]));
  };
  const events = async (node: string): Promise<EventJson[]> => {
    const r = await kubectl(h.cp, ['get', 'events', '-n', 'default', '-o', 'json']);
    return (JSON.parse(r.stdout) as { items: EventJson[] }).items.filter(
      (e) => e.involvedObject.kind === 'Node' && e.involvedObject.name === node,
    );
  };

  it(
    'edge health — EdgeHealthy on the Node; runtime loss flips Ready and EdgeHealthy, recovery restores both; Events record the verdict changes',
    { timeout: 180_000 },
    async () => {
      const name = 'edge-health';
      edge = await startEdgeProcess(h, name, {
        criSocket: socket,
        health: {
          units: {
            runtime: { sampleIntervalMs: 500, freshnessMs: 3000, timeoutMs: 1000 },
            // The shared 2-core CI machine is loaded by other tests: host load must not decide this test.
            cpu: { enabled: false },
            thermal: { enabled: false },
            'cloud-link': { sampleIntervalMs: 500, freshnessMs: 3000 },
          },
        },
      });
      const e = edge;
      const healthy = await eventually(
        async () => {
          const c = await conditions(name);
          return c.get('Ready')?.status === 'True' && c.get('EdgeHealthy')?.status === 'True' ? c : false;
        },
        `Ready and EdgeHealthy True (edge output: ${e.proc.output()})`,
        60_000,
      );
      expect(healthy.get('EdgeHealthy')?.reason).toBe('Healthy');
      // The message is the health status string: every unit's output, the runtime passing.
      expect(healthy.get('EdgeHealthy')?.message).toMatch(/(^|;)runtime=01@\d\d:\d\d:\d\dZ/);
      expect(healthy.get('EdgeHealthy')?.message).toMatch(/(^|;)store=01/);

      await killContainerd('SIGKILL');
      const down = await eventually(
        async () => {
          const c = await conditions(name);
          return c.get('Ready')?.status === 'False' && c.get('EdgeHealthy')?.status === 'False' ? c : false;
        },
        'Ready and EdgeHealthy False after the runtime died',
        30_000,
      );
      expect(down.get('Ready')?.reason).toBe('ContainerRuntimeUnreachable');
      expect(down.get('EdgeHealthy')?.reason).toBe('Unhealthy');
      expect(down.get('EdgeHealthy')?.message).toMatch(/(^|;)runtime=02/);
      const unhealthy = await eventually(
        async () => (await events(name)).find((ev) => ev.reason === 'EdgeHealthUnhealthy') ?? false,
        'an EdgeHealthUnhealthy Event on the Node',
        20_000,
      );
      expect(unhealthy.type).toBe('Warning');
      expect(unhealthy.message).toMatch(/→ Unhealthy: .*runtime=02/);

      await startContainerd();
      const back = await eventually(
        async () => {
          const c = await conditions(name);
          return c.get('Ready')?.status === 'True' && c.get('EdgeHealthy')?.status === 'True' ? c : false;
        },
        'Ready and EdgeHealthy True again once the runtime returned',
        60_000,
      );
      expect(back.get('EdgeHealthy')?.message).toMatch(/(^|;)runtime=01/);
      const recovered = await eventually(
        async () =>
          (await events(name)).find(
            (ev) => ev.reason === 'EdgeHealthHealthy' && ev.message.includes('Unhealthy →'),
          ) ?? false,
        'an EdgeHealthHealthy Event after the Unhealthy one',
        20_000,
      );
      expect(recovered.type).toBe('Normal');
    },
  );

  it(
    'edge health — started while the runtime is down: the start-up check refuses new pods; once containerd is up a new pod runs',
    { timeout: 180_000 },
    async () => {
      const e = edge;
      if (e === undefined) throw new Error('the first test did not start the edge');
      await e.proc.kill('SIGTERM');
      await killContainerd('SIGKILL');
      e.proc = tether(['edge', 'run', '--config', e.configFile]);
      const view = await eventually(
        async () => fetchHealth(await apiEndpoint(e)),
        `health endpoint of the restarted edge (output: ${e.proc.output()})`,
        60_000,
      );
      expect(view.startup?.admitNewPods).toBe(false);
      expect(view.startup?.admitReason).toContain('runtime');
      expect(view.units.find((u) => u.unit === 'runtime')?.state).toBe('fail');

      const manifest = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'late', namespace: 'default' },
        spec: {
          nodeName: e.name,
          // No projected kube-api-access volume from upstream's ServiceAccount admission: the
          // edge kubelet does not support it yet (docs/compatibility.md).
          automountServiceAccountToken: false,
          hostNetwork: true,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sleep', '3600'] }],
        },
      };
      await kubectl(h.cp, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });
      await startContainerd();
      await eventually(
        async () => {
          const p = JSON.parse((await kubectl(h.cp, ['get', 'pod', 'late', '-o', 'json'])).stdout) as {
            status?: { phase?: string };
          };
          return p.status?.phase === 'Running';
        },
        `pod late Running after the runtime came up (edge output: ${e.proc.output()})`,
        90_000,
      );
      await kubectl(h.cp, ['delete', 'pod', 'late', '--timeout=60s'], { timeoutMs: 70_000 });
    },
  );
});
