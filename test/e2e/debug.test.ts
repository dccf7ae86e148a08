/**
 * `kubectl debug` into an edge pod end to end: kubectl adds an ephemeral container through
 * pods/ephemeralcontainers (embedded or upstream API server, by TETHER_CONTROL_PLANE), the cloud
 * delivers the spec change like any pod update, the edge kubelet starts the container in the
 * pod's sandbox on the real containerd (in the target's PID namespace with --target) and reports
 * ephemeralContainerStatuses; logs and attach go through the cloud endpoint (docs/streams.md).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1ContainerStatus } from '@kubernetes/client-node';
import { SHELL_IMAGE } from '../edge/pods/helpers.js';
import { eventually } from '../support/channel.js';
import { STREAMS_NS as NS, StreamsEdgeEnv, shellPod } from '../support/streams-edge.js';

const NODE = 'edge-debug';
// A process only the target container runs: visible from the debugger only through its PID namespace.
const MARKER = 'sleep 424242';

describe('kubectl debug end to end (ephemeral containers in an edge pod)', () => {
  const env = new StreamsEdgeEnv();
  const h = env.h;
  const kubectl = env.kubectl.bind(env);

  beforeAll(async () => {
    await env.start({
      node: NODE,
      chainPrefix: 'TDBG',
      bridgeContainerd: true,
      pods: [shellPod(NODE, 'app', ['sh', '-c', `exec ${MARKER}`])],
      running: ['app'],
    });
  }, 300_000);

  afterAll(async () => {
    await env.stop();
  }, 120_000);

  const ephemeralStatus = async (name: string): Promise<V1ContainerStatus | undefined> =>
    (await h.core.readNamespacedPod({ name: 'app', namespace: NS })).status?.ephemeralContainerStatuses?.find(
      (s) => s.name === name,
    );

  const terminated = async (name: string): Promise<NonNullable<V1ContainerStatus['state']>['terminated']> =>
    eventually(
      async () => (await ephemeralStatus(name))?.state?.terminated,
      `${name} terminated`,
      120_000,
    ).catch(async (e: unknown) => {
      const p = await h.core.readNamespacedPod({ name: 'app', namespace: NS });
      throw new Error(`${String(e)}\nstatus: ${JSON.stringify(p.status)}\nedge:\n${env.edge.proc.output()}`);
    });

  it(
    "debug e2e — kubectl debug --target runs in the target's PID namespace; logs and a terminated status with exit 0",
    { timeout: 240_000 },
    async () => {
      const r = await kubectl([
        'debug',
        'app',
        `--image=${SHELL_IMAGE}`,
        '--target=c',
        '--container=dbg',
        '--',
        'sh',
        '-c',
        'ps; echo hi',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const t = await terminated('dbg');
      expect(t?.exitCode).toBe(0);
      expect(t?.reason).toBe('Completed');
      const logs = await kubectl(['logs', 'app', '-c', 'dbg']);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stdout).toContain(MARKER);
      expect(logs.stdout).toMatch(/hi\n$/);
      // The pod itself is untouched: still Running, its container not restarted.
      const p = await h.core.readNamespacedPod({ name: 'app', namespace: NS });
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
      // Never restarted: it stays terminated on later syncs.
      await new Promise((res) => setTimeout(res, 3_000));
      const again = await ephemeralStatus('dbg');
      expect(again?.restartCount).toBe(0);
      expect(again?.state?.terminated?.exitCode).toBe(0);
    },
  );

  it(
    "debug e2e — without --target the debugger has its own PID namespace (the target's processes are not visible)",
    { timeout: 240_000 },
    async () => {
      const r = await kubectl([
        'debug',
        'app',
        `--image=${SHELL_IMAGE}`,
        '--container=alone',
        '--',
        'sh',
        '-c',
        'ps; exit 3',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const t = await terminated('alone');
      expect(t?.exitCode).toBe(3);
      expect(t?.reason).toBe('Error');
      const logs = await kubectl(['logs', 'app', '-c', 'alone']);
      expect(logs.stdout).toContain('ps');
      expect(logs.stdout).not.toContain(MARKER);
    },
  );

  it(
    'debug e2e — kubectl debug -i with piped input, then kubectl attach -i to the same debugger',
    { timeout: 240_000 },
    async () => {
      const follow = async (args: string[], input: string, until: RegExp): Promise<string> => {
        const child = spawn('/usr/bin/kubectl', ['--kubeconfig', h.cp.kubeconfigPath, ...args]);
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        // Kept open: the debugger has no stdinOnce, and an early EOF would end kubectl's attach.
        child.stdin.write(input);
        try {
          await eventually(() => until.test(out), `${args.join(' ')} → ${String(until)}`, 120_000).catch(
            (e: unknown) => {
              throw new Error(`${String(e)}\nkubectl output:\n${out}\nedge:\n${env.edge.proc.output()}`);
            },
          );
          return out;
        } finally {
          child.stdin.end();
          if (child.exitCode === null) {
            child.kill('SIGINT');
            await new Promise((res) => child.once('exit', res));
          }
        }
      };
      const first = await follow(
        [
          'debug',
          'app',
          '-i',
          `--image=${SHELL_IMAGE}`,
          '--container=talk',
          '--',
          'sh',
          '-c',
          'while read l; do echo "heard $l"; done',
        ],
        'hello edge\n',
        /heard hello edge/,
      );
      expect(first).toContain('heard hello edge');
      const st = await ephemeralStatus('talk');
      expect(st?.state?.running).toBeDefined();
      const again = await follow(['attach', 'app', '-c', 'talk', '-i'], 'once more\n', /heard once more/);
      expect(again).toContain('heard once more');
    },
  );
});
