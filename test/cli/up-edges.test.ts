/**
 * `tether up --edges` beside another one (two test runs on one host): each run's namespaces,
 * veths and /30s are its own (named after its state dir), kubectl logs/exec reach pods on a
 * namespace edge (containerd's streaming server bridged into the namespace), and a SIGKILLed
 * run's leftovers are cleaned by the next start on its state dir — and only those.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upNetnsNames, upTag } from '../../src/cli/netns.js';
import { PROJECT_CRI_SOCKET } from '../../src/cli/up.js';
import { createRegistry, silentLogger } from '../../src/common/index.js';
import { CriRuntime } from '../../src/edge/cri/index.js';
import { freePort, tether, type Proc } from '../support/procs.js';
import { netnsAvailable } from '../support/netns.js';

interface Run {
  name: string;
  state: string;
  node: string;
  args: string[];
  proc: Proc | undefined;
}

function kubectl(run: Run, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--kubeconfig', join(run.state, 'apiserver', 'admin.kubeconfig'), ...args],
      { timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          out: stdout + stderr,
        });
      },
    );
  });
}

async function untilUp(p: Proc): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (!p.output().includes('Tether is up.')) {
    if (p.child.exitCode !== null) throw new Error(`tether up exited:\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`tether up did not finish:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const namespaces = (): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');

const links = (): string[] =>
  [...execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).matchAll(/^\d+:\s+([^:@\s]+)/gm)].map(
    (m) => m[1] ?? '',
  );

describe.runIf(netnsAvailable())('cli — tether up --edges, two at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-up-edges-'));
  const runs: Run[] = [];

  async function start(run: Run): Promise<void> {
    run.proc = tether(run.args);
    await untilUp(run.proc);
  }

  beforeAll(async () => {
    for (const name of ['a', 'b']) {
      const [api, hub, metrics, bus, edgeApi, streams] = await Promise.all(
        [0, 1, 2, 3, 4, 5].map(() => freePort()),
      );
      const state = join(dir, name);
      // the same node names in both runs, as two runs of one test would have: their edges share
      // the project containerd, and one run's `down` must not take the other's pods
      const node = 'edge-local';
      runs.push({
        name,
        state,
        node,
        proc: undefined,
        args: [
          'up',
          '--no-setup',
          '--no-device',
          '--state-dir',
          state,
          '--node-name',
          node,
          ...['--api-port', String(api), '--hub-port', String(hub), '--metrics-port', String(metrics)],
          ...[
            '--bus-port',
            String(bus),
            '--edge-api-port',
            String(edgeApi),
            '--streams-port',
            String(streams),
          ],
          ...['--edges', '1', '--log-level', 'warn'],
        ],
      });
    }
    // both at once, as two test runs would
    await Promise.all(runs.map((r) => start(r)));
  }, 300_000);

  afterAll(async () => {
    for (const r of runs) {
      await r.proc?.kill('SIGTERM');
      const down = tether(['down', '--state-dir', r.state]);
      await new Promise((res) => down.child.once('exit', res));
    }
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('cli — two up --edges 1 at once both come up, each edge in a namespace and on a /30 of its own', async () => {
    const [a, b] = runs as [Run, Run];
    const na = upNetnsNames(upTag(a.state), 1);
    const nb = upNetnsNames(upTag(b.state), 1);
    expect(na.ns).not.toBe(nb.ns);
    expect(namespaces()).toEqual(expect.arrayContaining([na.ns, nb.ns]));
    expect(links()).toEqual(expect.arrayContaining([na.hostIf, nb.hostIf]));
    for (const n of [na.hostIf, nb.hostIf]) expect(n.length).toBeLessThanOrEqual(15);
    const addr = (i: string): string =>
      /inet (\S+)/.exec(
        execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', i], { encoding: 'utf8' }),
      )?.[1] ?? '';
    expect(addr(na.hostIf)).toMatch(/^10\.214\.\d+\.\d+\/30$/);
    expect(addr(na.hostIf)).not.toBe(addr(nb.hostIf));
    for (const r of [a, b]) {
      const nodes = await kubectl(r, ['get', 'nodes', '--no-headers']);
      expect(nodes.out).toMatch(new RegExp(`^${r.node}-1\\s+Ready`, 'm'));
      expect(nodes.out).toMatch(new RegExp(`^${r.node}\\s+Ready`, 'm'));
    }
  });

  it('cli — kubectl logs and exec reach a pod on a namespace edge of up --edges', async () => {
    const a = runs[0] as Run;
    const onEdge = `${a.node}-1`;
    const run = await kubectl(a, [
      'run',
      'hello',
      '--image=localhost:5000/tether/shell:1',
      '--restart=Never',
      `--overrides={"spec":{"nodeName":"${onEdge}"}}`,
      '--',
      'sh',
      '-c',
      'echo hello-from-the-namespace-edge; exec sleep 3600',
    ]);
    expect(run.code, run.out).toBe(0);
    const ready = await kubectl(a, ['wait', '--for=condition=Ready', 'pod/hello', '--timeout=120s']);
    expect(ready.code, ready.out).toBe(0);
    const logs = await kubectl(a, ['logs', 'hello']);
    expect(logs.code, logs.out).toBe(0);
    expect(logs.out).toContain('hello-from-the-namespace-edge');
    const exec = await kubectl(a, ['exec', 'hello', '--', 'sh', '-c', 'echo exec-$((6*7)); exit 3']);
    expect(exec.out).toContain('exec-42');
    expect(exec.code).toBe(3);
  }, 240_000);

  it('cli — a SIGKILLed up --edges leaves processes and a namespace; the next up on its state dir clears them, the other run untouched', async () => {
    const [a, b] = runs as [Run, Run];
    const upState = JSON.parse(readFileSync(join(b.state, 'up.json'), 'utf8')) as {
      edges: { pid: number }[];
      bridgePids?: number[];
    };
    const leftPids = [...upState.edges.map((e) => e.pid), ...(upState.bridgePids ?? [])];
    expect(leftPids.length).toBeGreaterThanOrEqual(2);
    await b.proc?.kill('SIGKILL');
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // SIGKILL runs no clean-up: the namespace edge and the forwarder outlive it
    expect(leftPids.filter(alive).length).toBeGreaterThan(0);
    expect(namespaces()).toContain(upNetnsNames(upTag(b.state), 1).ns);
    await start(b);
    expect(leftPids.filter(alive)).toEqual([]);
    const nodes = await kubectl(b, ['get', 'nodes', '--no-headers']);
    expect(nodes.out).toMatch(new RegExp(`^${b.node}-1\\s+Ready`, 'm'));
    // the other run kept its namespace edge, and its pod on the node name both runs share
    expect(namespaces()).toContain(upNetnsNames(upTag(a.state), 1).ns);
    const other = await kubectl(a, ['get', 'nodes', '--no-headers']);
    expect(other.out).toMatch(new RegExp(`^${a.node}-1\\s+Ready`, 'm'));
    const pod = await kubectl(a, [
      'get',
      'pod',
      'hello',
      '-o',
      'jsonpath={.status.phase}/{.status.containerStatuses[0].restartCount}/{.status.containerStatuses[0].state.running.startedAt}',
    ]);
    expect(pod.out).toMatch(/^Running\/0\/\d{4}-/);
  }, 300_000);

  it('cli — tether down of one run removes its own pods, not the other run’s on the same node names', async () => {
    const b = runs[1] as Run;
    const onB = await kubectl(b, [
      'run',
      'mine',
      '--image=localhost:5000/tether/shell:1',
      '--restart=Never',
      `--overrides={"spec":{"nodeName":"${b.node}-1"}}`,
      '--',
      'sleep',
      '3600',
    ]);
    expect(onB.code, onB.out).toBe(0);
    expect((await kubectl(b, ['wait', '--for=condition=Ready', 'pod/mine', '--timeout=120s'])).code).toBe(0);
    const rt = new CriRuntime(
      { endpoint: PROJECT_CRI_SOCKET },
      { logger: silentLogger(), registry: createRegistry() },
    );
    await rt.start();
    try {
      const boxes = async (name: string): Promise<string[]> =>
        (await rt.listPodSandbox({ labels: { 'io.kubernetes.pod.name': name } })).map(
          (x) => `${x.id}/${x.state}`,
        );
      const hello = await boxes('hello');
      expect(hello).toHaveLength(1);
      expect(await boxes('mine')).toHaveLength(1);
      await b.proc?.kill('SIGTERM');
      const down = tether(['down', '--state-dir', b.state]);
      await new Promise((res) => down.child.once('exit', res));
      expect(down.output()).toMatch(/removed 1 pod sandbox/);
      expect(await boxes('mine')).toEqual([]);
      // run a's pod on its edge of the same name: the same sandbox, still ready
      expect(await boxes('hello')).toEqual(hello);
      expect(hello[0]).toMatch(/\/ready$/);
    } finally {
      await rt.stop();
    }
  }, 300_000);
});
