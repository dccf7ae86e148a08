/**
 * Issue 8 end to end: the real kubectl against the control plane (embedded or upstream, by
 * TETHER_CONTROL_PLANE), the cloud core's kubelet endpoint and relay, a real `tether edge run`
 * in its own network namespace running pods on the real containerd. The API server dials the
 * edge's InternalIP on the advertised kubelet port exactly as for any node; the cloud's iptables
 * redirect (streams.redirect: iptables) brings those connections to the cloud endpoint.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHELL_IMAGE } from '../edge/pods/helpers.js';
import { eventually } from '../support/channel.js';
import { STREAMS_NS as NS, StreamsEdgeEnv, shellPod } from '../support/streams-edge.js';

const NODE = 'edge-streams';
const pod = (name: string, command: string[], extra: Record<string, unknown> = {}): object =>
  shellPod(NODE, name, command, extra);

describe('streams end to end (kubectl → API server → cloud endpoint → channel → edge → containerd)', () => {
  const env = new StreamsEdgeEnv();
  const h = env.h;
  const kubectl = env.kubectl.bind(env);
  const tmuxSession = `tether-streams-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    await env.start({
      node: NODE,
      chainPrefix: 'TSTR',
      // containerd's streaming server is on the root namespace's loopback, the agent in its own
      bridgeContainerd: true,
      pods: [
        pod('ticker', ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']),
        pod('crasher', ['sh', '-c', 'echo "life $(cat /proc/uptime)"; sleep 2; exit 3']),
        pod('shell', ['sleep', '100000']),
        pod('listener', [], {
          // stdinOnce: the runtime closes the container's stdin when the first attach ends it
          containers: [
            {
              name: 'c',
              image: SHELL_IMAGE,
              command: [
                'sh',
                '-c',
                'while read l; do echo "heard $l"; done; echo stdin-closed; sleep 100000',
              ],
              stdin: true,
              stdinOnce: true,
            },
          ],
        }),
        pod('web', [
          'sh',
          '-c',
          'mkdir -p /www && echo hello-from-the-edge > /www/index.html && exec httpd -f -p 8080 -h /www',
        ]),
      ],
      running: ['ticker', 'shell', 'web', 'listener'],
    });
  }, 300_000);

  afterAll(async () => {
    try {
      execFileSync('tmux', ['kill-session', '-t', tmuxSession], { stdio: 'ignore' });
    } catch {
      /* not started */
    }
    await env.stop();
  }, 120_000);

  it('streams e2e — kubectl logs -f of a container printing continuously', { timeout: 120_000 }, async () => {
    const child = spawn('/usr/bin/kubectl', ['--kubeconfig', h.cp.kubeconfigPath, 'logs', '-f', 'ticker']);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const first = await eventually(() => /tick (\d+)\n/.exec(out), 'first ticks', 60_000).catch(
        (e: unknown) => {
          throw new Error(`${String(e)}; kubectl stderr: ${err}`);
        },
      );
      const n = Number(first[1]);
      // still following: lines written after the request arrive
      await eventually(() => out.includes(`tick ${String(n + 10)}\n`), 'ticks keep coming', 60_000);
      const nums = [...out.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
      expect(nums).toEqual(nums.map((_, i) => (nums[0] ?? 0) + i)); // in order, none missing
    } finally {
      child.kill('SIGINT');
    }
    const tail = await kubectl(['logs', 'ticker', '--tail=2', '--timestamps']);
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trimEnd().split('\n');
    expect(lines, tail.stdout).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z tick \d+$/);
  });

  it('streams e2e — kubectl logs --previous after a crash', { timeout: 180_000 }, async () => {
    await eventually(
      async () =>
        ((await h.core.readNamespacedPod({ name: 'crasher', namespace: NS })).status?.containerStatuses?.[0]
          ?.restartCount ?? 0) >= 1,
      'crasher restarted',
      150_000,
    );
    const prev = await kubectl(['logs', 'crasher', '--previous']);
    expect(prev.stderr).toBe('');
    expect(prev.stdout).toMatch(/^life \d+/);
  });

  it(
    'streams e2e — kubectl exec with piped stdin, stdout, stderr and the exit code',
    { timeout: 120_000 },
    async () => {
      const r = await kubectl(
        ['exec', '-i', 'shell', '--', 'sh', '-c', 'tr a-z A-Z; echo oops >&2; exit 5'],
        'hello edge\n',
      );
      if (r.stdout !== 'HELLO EDGE\n')
        throw new Error(`exec: ${JSON.stringify(r)}\nedge output:\n${env.edge.proc.output()}`);
      expect(r.stderr).toContain('oops');
      expect(r.stderr).toContain('command terminated with exit code 5');
      expect(r.code).toBe(5);
      const ok = await kubectl(['exec', 'shell', '--', 'echo', 'fine']);
      expect(ok).toMatchObject({ code: 0, stdout: 'fine\n' });
      const missing = await kubectl(['exec', 'shell', '-c', 'nope', '--', 'true']);
      expect(missing.code).not.toBe(0);
    },
  );

  it(
    'streams e2e — interactive kubectl exec -it through a pseudo-terminal (tmux)',
    { timeout: 120_000 },
    async () => {
      const cmd = `/usr/bin/kubectl --kubeconfig ${h.cp.kubeconfigPath} exec -it shell -- sh; echo "kubectl-exited=$?"; sleep 600`;
      execFileSync('tmux', ['new-session', '-d', '-s', tmuxSession, '-x', '100', '-y', '30', cmd]);
      const screen = (): string =>
        execFileSync('tmux', ['capture-pane', '-p', '-t', tmuxSession], { encoding: 'utf8' });
      const keys = (...k: string[]): void => {
        execFileSync('tmux', ['send-keys', '-t', tmuxSession, ...k]);
      };
      await eventually(() => /[#$]\s*$/m.test(screen()), 'a shell prompt', 60_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\nscreen:\n${screen()}\nedge output:\n${env.edge.proc.output()}`);
      });
      keys('echo $((6*7))-$(stty size)', 'Enter');
      // the product proves the remote shell evaluated it; stty size shows the terminal size was sent
      await eventually(() => /42-\d+ 100/.test(screen()), 'the answer and the terminal size', 30_000).catch(
        (e: unknown) => {
          throw new Error(`${String(e)}\nscreen:\n${screen()}`);
        },
      );
      keys('exit 4', 'Enter');
      await eventually(
        () => screen().includes('kubectl-exited=4'),
        'kubectl exits with the shell status',
        30_000,
      );
    },
  );

  it(
    'streams e2e — kubectl attach: output of a running container, and stdin to one that reads it',
    { timeout: 120_000 },
    async () => {
      const follow = async (args: string[], input: string | undefined, until: RegExp): Promise<string> => {
        const child = spawn('/usr/bin/kubectl', ['--kubeconfig', h.cp.kubeconfigPath, ...args]);
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        if (input !== undefined) child.stdin.end(input);
        try {
          await eventually(() => until.test(out), `${args.join(' ')} → ${String(until)}`, 60_000).catch(
            (e: unknown) => {
              throw new Error(`${String(e)}\nkubectl output:\n${out}`);
            },
          );
          return out;
        } finally {
          if (child.exitCode === null) {
            child.kill('SIGINT');
            await new Promise((r) => child.once('exit', r));
          }
        }
      };
      // attach shows what the container prints from now on (not the log history)
      const ticks = await follow(['attach', 'ticker'], undefined, /tick \d+\n(.|\n)*tick \d+\n/);
      const nums = [...ticks.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
      expect(nums[1]).toBe((nums[0] ?? 0) + 1);
      // -i: kubectl's stdin reaches the container; its EOF closes the container's stdin (stdinOnce)
      const heard = await follow(['attach', '-i', 'listener'], 'hello edge\n', /stdin-closed/);
      expect(heard).toContain('heard hello edge');
    },
  );

  it(
    'streams e2e — kubectl port-forward to an HTTP server in the edge pod',
    { timeout: 120_000 },
    async () => {
      const child = spawn('/usr/bin/kubectl', [
        '--kubeconfig',
        h.cp.kubeconfigPath,
        'port-forward',
        'pod/web',
        ':8080',
      ]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const m = await eventually(
          () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out),
          'port-forward ready',
          60_000,
        );
        const body = await new Promise<string>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port: Number(m[1]), path: '/' }, (res) => {
            let b = '';
            res.on('data', (d: Buffer) => (b += d.toString()));
            res.on('end', () => {
              resolve(b);
            });
          });
          req.on('error', reject);
          req.end();
        });
        expect(body).toBe('hello-from-the-edge\n');
      } finally {
        if (child.exitCode === null) {
          child.kill('SIGINT');
          await new Promise((r) => child.once('exit', r));
        }
      }
    },
  );
});
