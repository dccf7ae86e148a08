/**
 * Issue 8 end to end: the real kubectl against the control plane (embedded or upstream, by
 * TETHER_CONTROL_PLANE), the cloud core's kubelet endpoint and relay, a real `tether edge run`
 * in its own network namespace running pods on the real containerd. The API server dials the
 * edge's InternalIP on the advertised kubelet port exactly as for any node; the cloud's iptables
 * redirect (streams.redirect: iptables) brings those connections to the cloud endpoint.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/index.js';
import { CloudStreams } from '../../src/cloud/streams/index.js';
import type { CriRuntime } from '../../src/edge/cri/index.js';
import { removeEdgeProcess } from '../edge/node/edge-process.js';
import { CRI_SOCKET, SHELL_IMAGE, newRuntime } from '../edge/pods/helpers.js';
import { ChannelHarness, eventually } from '../support/channel.js';
import { createEdgeHost, type EdgeHost } from '../support/netns.js';
import { startNetnsEdge, type NetnsEdge } from './autonomy-support.js';

const NODE = 'edge-streams';
const NS = 'default';

const pod = (name: string, command: string[], extra: Record<string, unknown> = {}): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS },
  spec: {
    nodeName: NODE,
    terminationGracePeriodSeconds: 1,
    // upstream would inject the projected service account token volume (not an edge feature yet)
    automountServiceAccountToken: false,
    containers: [{ name: 'c', image: SHELL_IMAGE, command }],
    ...extra,
  },
});

/**
 * The test containerd is shared by every edge and runs in the root namespace; its streaming
 * server listens on 127.0.0.1 there. On a real edge host containerd and the agent share that
 * loopback; here the agent sits in its own namespace, so each containerd 127.0.0.1 listener is
 * bridged into the namespace's loopback through a unix socket (file systems are shared).
 */
function bridgeContainerdStreaming(ns: string, dir: string): { stop(): void } {
  const ports = [
    ...execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' }).matchAll(/127\.0\.0\.1:(\d+)\s.*"containerd"/g),
  ].map((m) => Number(m[1]));
  const servers = ports.map((port) => {
    const path = join(dir, `cri-stream-${String(port)}.sock`);
    const srv = createServer((c) => {
      const up = connect(port, '127.0.0.1');
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    }).listen(path);
    return { port, path, srv };
  });
  const script = `const net=require('node:net');for(const a of process.argv.slice(1)){const [p,s]=a.split('=');net.createServer(c=>{const u=net.connect(s);c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy())}).listen(Number(p),'127.0.0.1')}`;
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      script,
      ...servers.map((x) => `${String(x.port)}=${x.path}`),
    ],
    { stdio: 'ignore' },
  );
  return {
    stop: () => {
      child.kill('SIGKILL');
      for (const x of servers) x.srv.close();
    },
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('streams end to end (kubectl → API server → cloud endpoint → channel → edge → containerd)', () => {
  const h = new ChannelHarness();
  let host: EdgeHost;
  let edge: NetnsEdge | undefined;
  let rt: CriRuntime;
  let streams: CloudStreams;
  let bridge: { stop(): void } | undefined;
  const tmuxSession = `tether-streams-${randomBytes(3).toString('hex')}`;

  const kubectl = (args: string[], input?: string, env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        '/usr/bin/kubectl',
        ['--kubeconfig', h.cp.kubeconfigPath, ...args],
        { env: { ...process.env, ...env }, timeout: 90_000 },
        (error, stdout, stderr) => {
          resolve({
            code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
            stdout,
            stderr,
          });
        },
      );
      child.stdin?.end(input ?? '');
    });

  beforeAll(async () => {
    await h.start();
    host = createEdgeHost();
    bridge = bridgeContainerdStreaming(host.ns, h.dir);
    rt = newRuntime(CRI_SOCKET);
    await rt.start();
    const cloud = await h.startCloud({ host: host.hostIp, keepaliveMs: 500 });
    // The embedded API server keeps its CA (which signs its kubelet client certificate) beside its kubeconfig.
    const clientCa = h.cp.kubeletClientCAPath ?? join(dirname(h.cp.kubeconfigPath), 'pki', 'ca.crt');
    const serving = await h.ca.issueServer('tether-streams', { ips: ['127.0.0.1'] });
    streams = new CloudStreams(
      {
        host: '127.0.0.1',
        port: 0,
        tls: { ...serving, clientCaPem: readFileSync(clientCa, 'utf8') },
        redirect: 'iptables',
        redirectChain: `TSTR-${randomBytes(3).toString('hex')}`,
      },
      cloud.hub,
      h.core,
      silentLogger(),
      cloud.registry,
    );
    await streams.start();
    cloud.hub.setHandler(streams.wrap(cloud.sync));
    edge = await startNetnsEdge(h, cloud, host, NODE, { criSocket: CRI_SOCKET });
    const e = edge;
    // Pods after the Node exists: upstream's pod GC deletes pods bound to a node that does not.
    await eventually(() => h.core.readNode({ name: NODE }).then(() => true), 'the edge Node', 120_000);
    for (const p of [
      pod('ticker', ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']),
      pod('crasher', ['sh', '-c', 'echo "life $(cat /proc/uptime)"; sleep 2; exit 3']),
      pod('shell', ['sleep', '100000']),
      pod('listener', [], {
        // stdinOnce: the runtime closes the container's stdin when the first attach ends it
        containers: [
          {
            name: 'c',
            image: SHELL_IMAGE,
            command: ['sh', '-c', 'while read l; do echo "heard $l"; done; echo stdin-closed; sleep 100000'],
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
    ])
      await h.core.createNamespacedPod({ namespace: NS, body: p });
    for (const name of ['ticker', 'shell', 'web', 'listener'])
      await eventually(
        async () => (await h.core.readNamespacedPod({ name, namespace: NS })).status?.phase === 'Running',
        `${name} Running`,
        180_000,
      ).catch(async (err: unknown) => {
        const p = await h.core.readNamespacedPod({ name, namespace: NS }).catch(() => undefined);
        throw new Error(
          `${String(err)}\npod status: ${JSON.stringify(p?.status)}\nedge output:\n${e.proc.output()}`,
        );
      });
    // The Node advertises the cloud endpoint's port; the redirect covers the edge's address.
    await eventually(async () => {
      const n = await h.core.readNode({ name: NODE });
      return n.status?.daemonEndpoints?.kubeletEndpoint?.Port === streams.advertisedPort;
    }, 'Node advertises the cloud kubelet endpoint');
    await streams.redirectSettled();
  }, 300_000);

  afterAll(async () => {
    try {
      execFileSync('tmux', ['kill-session', '-t', tmuxSession], { stdio: 'ignore' });
    } catch {
      /* not started */
    }
    // the redirect chain first: whatever fails below, no nat rule may outlive the test
    await streams.stop().catch(() => undefined);
    bridge?.stop();
    if (edge !== undefined) await removeEdgeProcess(edge, rt);
    await rt.stop();
    host.remove();
    await h.stop();
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
        throw new Error(`exec: ${JSON.stringify(r)}\nedge output:\n${edge?.proc.output() ?? ''}`);
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
        throw new Error(`${String(e)}\nscreen:\n${screen()}\nedge output:\n${edge?.proc.output() ?? ''}`);
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
