import { rename, rm, symlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger, type Registry } from '../../../src/common/index.js';
import { EdgeStreams, type EdgeStreamsConfig } from '../../../src/edge/streams/index.js';
import type { StreamTarget } from '../../../src/protocol/index.js';
import { FakeCloud } from './fake-link.js';
import {
  SHELL_IMAGE,
  disposeStreamEnv,
  makePod,
  newStreamEnv,
  runPod,
  startContainer,
  storePod,
  waitFor,
  type RunningPod,
  type StreamEnv,
} from './helpers.js';

let env: StreamEnv;
let shell: RunningPod;
let logs: RunningPod;

const SHELL_CMD = [
  'sh',
  '-c',
  'mkdir -p /www && echo hello-www > /www/index.html && httpd -p 8080 -h /www && exec sleep 100000',
];
// attempt 0 prints and exits; the test starts attempt 1 (a "restart") that prints, then ticks
const LOGS_ATTEMPT0 = ['sh', '-c', 'echo attempt-zero; echo oops >&2'];
const LOGS_ATTEMPT1 = [
  'sh',
  '-c',
  'for i in 1 2 3 4 5; do echo n$i; done; i=0; while true; do i=$((i+1)); echo tick$i; sleep 1; done',
];

let registry: Registry;

function streams(over: Partial<EdgeStreamsConfig> = {}): EdgeStreams {
  registry = createRegistry();
  return new EdgeStreams(
    { nodeName: env.nodeName, podLogsRoot: env.logsRoot, followPollMs: 50, runningCheckMs: 200, ...over },
    { store: env.store, runtime: env.rt, logger: silentLogger(), registry },
  );
}

function target(p: RunningPod, container?: string): StreamTarget {
  return {
    namespace: p.pod.metadata.namespace ?? '',
    pod: p.pod.metadata.name ?? '',
    ...(container === undefined ? {} : { container }),
  };
}

async function withStreams<T>(fn: (s: EdgeStreams, cloud: FakeCloud) => Promise<T>, over = {}): Promise<T> {
  const s = streams(over);
  await s.start();
  const cloud = new FakeCloud(s);
  try {
    return await fn(s, cloud);
  } finally {
    await s.stop();
  }
}

beforeAll(async () => {
  env = await newStreamEnv('main');
  shell = await runPod(env, makePod(env, 'shell', [{ name: 'app', image: SHELL_IMAGE, command: SHELL_CMD }]));
  logs = await runPod(
    env,
    makePod(env, 'logs', [{ name: 'app', image: SHELL_IMAGE, command: LOGS_ATTEMPT0 }]),
  );
  const first = logs.containers.get('app');
  await waitFor('attempt 0 to exit', async () =>
    first !== undefined && (await env.rt.containerStatus(first)).state === 'exited' ? true : undefined,
  );
  await startContainer(env, logs, 'app', 1, LOGS_ATTEMPT1);
}, 120_000);

afterAll(async () => {
  await disposeStreamEnv(env);
}, 60_000);

describe('edge/streams against the real containerd', () => {
  it('edge/streams — exec with stdin: stdout echoes, stderr apart, exit code 3; stdin credit granted first', async () => {
    await withStreams(async (_s, cloud) => {
      const id = cloud.open(target(shell), {
        type: 'exec',
        command: ['sh', '-c', 'cat; echo oops >&2; exit 3'],
        stdin: true,
        stdout: true,
        stderr: true,
        tty: false,
      });
      await cloud.until('initial stdin credit', () => cloud.grantedInput(id));
      const big = Buffer.alloc(600 * 1024, 'x'); // more than one window: credit must come back
      await cloud.input(id, 'hello edge\n');
      await cloud.input(id, big);
      cloud.endInput(id);
      expect(await cloud.ended(id)).toEqual({ type: 'exit', code: 3 });
      const out = cloud.output(id, 1);
      expect(out.subarray(0, 11).toString()).toBe('hello edge\n');
      expect(out.length).toBe(11 + big.length);
      expect(cloud.output(id, 2).toString()).toBe('oops\n');
      for (const e of cloud.sent)
        if (e.kind === 'streamData') expect(e.data.length).toBeLessThanOrEqual(32 * 1024);
    });
  });

  it('edge/streams — an empty stdin (EOF before the runtime connection is up) still reaches the process', async () => {
    await withStreams(async (_s, cloud) => {
      const id = cloud.open(target(shell), {
        type: 'exec',
        command: ['sh', '-c', 'wc -c'],
        stdin: true,
        stdout: true,
        stderr: true,
        tty: false,
      });
      cloud.endInput(id); // the cloud's EOF needs no credit: it may overtake the edge's connect
      expect(await cloud.ended(id)).toEqual({ type: 'exit', code: 0 });
      expect(cloud.output(id, 1).toString().trim()).toBe('0');
    });
  });

  it('edge/streams — tty exec: the first size and a later resize reach the terminal, output on channel 1, exit 0', async () => {
    await withStreams(async (_s, cloud) => {
      // containerd starts the process, then applies sizes and copies stdin in two goroutines
      // (pkg/cri/server/container_execsync.go: handleResizing / execIO.Attach), so a size is
      // not ordered against stdin even upstream: the command waits for each size rather than
      // racing it, which still fails if a size never arrives.
      const waitSize = (size: string): string =>
        `i=0; until [ "$(stty size 2>/dev/null)" = "${size}" ]; do i=$((i+1)); [ $i -gt 200 ] && exit 7; sleep 0.05; done; echo "size ${size}"`;
      const id = cloud.open(target(shell, 'app'), {
        type: 'exec',
        command: ['sh', '-c', `${waitSize('33 101')}; read x; ${waitSize('40 120')}; echo got-$x`],
        stdin: true,
        stdout: true,
        stderr: true,
        tty: true,
      });
      // kubectl's first size comes right after the open, before the runtime connection is up
      cloud.deliver({ kind: 'streamResize', stream: id, cols: 101, rows: 33 });
      const sized = (): boolean => cloud.output(id, 1).toString().includes('size 33 101');
      await cloud.until('the first size applied, or the end', () => sized() || cloud.end(id) !== undefined);
      expect(cloud.end(id)).toBeUndefined(); // exit 7: the size never reached the terminal in 10 s
      cloud.deliver({ kind: 'streamResize', stream: id, cols: 120, rows: 40 });
      await cloud.until('initial stdin credit', () => cloud.grantedInput(id));
      await cloud.input(id, 'abc\r');
      expect(await cloud.ended(id)).toEqual({ type: 'exit', code: 0 });
      const out = cloud.output(id, 1).toString();
      expect(out).toContain('size 40 120');
      expect(out).toContain('got-abc');
      expect(cloud.output(id, 2).length).toBe(0);
    });
  });

  it('edge/streams — logs: current, previous, tail, timestamps, limitBytes, since', async () => {
    await withStreams(async (_s, cloud) => {
      const base = { type: 'logs', follow: false, timestamps: false, previous: false } as const;
      const prev = cloud.open(target(logs), { ...base, previous: true });
      expect(await cloud.ended(prev)).toEqual({ type: 'closed' });
      // stdout and stderr are separate pipes: their order in the file is the runtime's
      expect(cloud.output(prev, 1).toString().split('\n').sort()).toEqual(['', 'attempt-zero', 'oops']);

      await waitFor('a few ticks', async () => {
        const p = cloud.open(target(logs), base);
        await cloud.ended(p);
        return cloud.output(p, 1).toString().includes('tick2\n') ? true : undefined;
      });
      const all = cloud.open(target(logs), base);
      await cloud.ended(all);
      expect(cloud.output(all, 1).toString()).toMatch(/^n1\nn2\nn3\nn4\nn5\ntick1\ntick2\n/);

      const tail = cloud.open(target(logs), { ...base, tailLines: 1 });
      await cloud.ended(tail);
      expect(cloud.output(tail, 1).toString()).toMatch(/^tick\d+\n$/);

      const ts = cloud.open(target(logs), { ...base, timestamps: true, limitBytes: 200 });
      await cloud.ended(ts);
      const first = cloud.output(ts, 1).toString().split('\n')[0] ?? '';
      expect(first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z n1$/);
      expect(cloud.output(ts, 1).length).toBe(200);

      const lim = cloud.open(target(logs), { ...base, limitBytes: 5 });
      await cloud.ended(lim);
      expect(cloud.output(lim, 1).toString()).toBe('n1\nn2');

      const future = cloud.open(target(logs), { ...base, sinceTime: '2100-01-01T00:00:00Z' });
      expect(await cloud.ended(future)).toEqual({ type: 'closed' });
      expect(cloud.output(future, 1).length).toBe(0);
    });
  });

  it('edge/streams — logs -f follows the live file across a kubelet-style rotation, and cancel releases it', async () => {
    await withStreams(async (s, cloud) => {
      const id = cloud.open(target(logs), {
        type: 'logs',
        follow: true,
        timestamps: false,
        previous: false,
        tailLines: 0,
      });
      await cloud.until('a live tick', () => /tick\d+\n/.test(cloud.output(id, 1).toString()));
      const current = logs.containers.get('app');
      if (current === undefined) throw new Error('no container');
      const st = await env.rt.containerStatus(current);
      // kubelet's rotation: rename 0.log → 0.log.<time>, then ReopenContainerLog makes a new one
      await rename(st.logPath, `${st.logPath}.20261126-120000`);
      await env.rt.reopenContainerLog(current);
      const before = cloud.output(id, 1).length;
      await cloud.until('ticks from the new file', () => {
        const lines = cloud.output(id, 1).subarray(before).toString().split('\n');
        return lines.filter((l) => /^tick\d+$/.test(l)).length >= 2;
      });
      const ticks = cloud
        .output(id, 1)
        .toString()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => Number(l.replace('tick', '')));
      // consecutive: nothing lost or repeated across the rotation
      for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBe((ticks[i - 1] ?? 0) + 1);
      expect(s.openStreams).toBe(1);
      cloud.cancel(id);
      expect(s.openStreams).toBe(0);
      const frames = cloud.dataFrames(id);
      await new Promise((r) => setTimeout(r, 1500));
      expect(cloud.dataFrames(id)).toBe(frames); // nothing after the cancel
      expect(cloud.end(id)).toBeUndefined(); // a cancelled stream is not answered
    });
  });

  it('edge/streams — attach: the running process output arrives live; cancel detaches', async () => {
    await withStreams(async (s, cloud) => {
      const id = cloud.open(target(logs), {
        type: 'attach',
        stdin: false,
        stdout: true,
        stderr: true,
        tty: false,
      });
      await cloud.until('a tick through attach', () => /tick\d+\n/.test(cloud.output(id, 1).toString()));
      expect(s.openStreams).toBe(1);
      cloud.cancel(id);
      expect(s.openStreams).toBe(0);
      expect(cloud.end(id)).toBeUndefined();
    });
  });

  it('edge/streams — port-forward to httpd in the pod: request on channel 0, response back, closed', async () => {
    await withStreams(async (_s, cloud) => {
      const id = cloud.open(target(shell), { type: 'portForward', port: 8080 });
      await cloud.input(id, 'GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n');
      expect(await cloud.ended(id)).toEqual({ type: 'closed' });
      const res = cloud.output(id, 0).toString();
      expect(res).toMatch(/^HTTP\/1\.[01] 200 OK/);
      expect(res).toContain('hello-www');
    });
  });

  it('edge/streams — port-forward to a closed port reports the runtime error on channel 3', async () => {
    await withStreams(async (_s, cloud) => {
      const id = cloud.open(target(shell), { type: 'portForward', port: 9 });
      await cloud.until('the stream to end', () => cloud.end(id) !== undefined);
      expect(cloud.output(id, 3).toString()).toMatch(/9/);
    });
  });

  it('edge/streams — flow control: no credit, no data; each grant lets exactly that much through', async () => {
    await withStreams(async (_s, cloud) => {
      const what = { type: 'logs', follow: false, timestamps: false, previous: true } as const;
      const ref = cloud.open(target(logs), what);
      await cloud.ended(ref);
      const full = cloud.output(ref, 1);
      cloud.autoCredit = false;
      const id = cloud.open(target(logs), what, 0);
      await new Promise((r) => setTimeout(r, 800));
      expect(cloud.dataFrames(id)).toBe(0);
      cloud.deliver({ kind: 'streamWindow', stream: id, credit: 4 });
      await cloud.until('4 bytes', () => cloud.output(id, 1).length >= 4);
      await new Promise((r) => setTimeout(r, 300));
      expect(cloud.output(id, 1)).toEqual(full.subarray(0, 4));
      cloud.deliver({ kind: 'streamWindow', stream: id, credit: 3 });
      await cloud.until('3 more bytes', () => cloud.output(id, 1).length >= 7);
      expect(cloud.output(id, 1)).toEqual(full.subarray(0, 7));
      expect(cloud.end(id)).toBeUndefined();
      cloud.deliver({ kind: 'streamWindow', stream: id, credit: 1024 });
      expect(await cloud.ended(id)).toEqual({ type: 'closed' });
      expect(cloud.output(id, 1)).toEqual(full);
    });
  });

  it('edge/streams — exec output without credit is held (the process blocks), then delivered in full', async () => {
    await withStreams(async (_s, cloud) => {
      cloud.autoCredit = false;
      const id = cloud.open(
        target(shell),
        {
          type: 'exec',
          command: ['sh', '-c', 'head -c 3000000 /dev/zero; exit 7'],
          stdin: false,
          stdout: true,
          stderr: true,
          tty: false,
        },
        64 * 1024,
      );
      await cloud.until('the first window', () => cloud.output(id, 1).length === 64 * 1024);
      await new Promise((r) => setTimeout(r, 500));
      expect(cloud.output(id, 1).length).toBe(64 * 1024);
      expect(cloud.end(id)).toBeUndefined();
      cloud.autoCredit = true;
      cloud.deliver({ kind: 'streamWindow', stream: id, credit: 64 * 1024 });
      expect(await cloud.ended(id)).toEqual({ type: 'exit', code: 7 });
      expect(cloud.output(id, 1).length).toBe(3_000_000);
    });
  });

  it('edge/streams — refused: a pod not in the store, bound elsewhere, wrong uid, wrong container, not running', async () => {
    const other = makePod(env, 'elsewhere', [{ name: 'app', image: SHELL_IMAGE }], 'some-other-node');
    storePod(env, other);
    const finished = await runPod(
      env,
      makePod(env, 'finished', [{ name: 'app', image: SHELL_IMAGE, command: ['true'] }]),
    );
    const fid = finished.containers.get('app');
    await waitFor('the container to exit', async () =>
      fid !== undefined && (await env.rt.containerStatus(fid)).state === 'exited' ? true : undefined,
    );
    await withStreams(async (_s, cloud) => {
      const logsWhat = { type: 'logs', follow: false, timestamps: false, previous: false } as const;
      const cases: [StreamTarget, RegExp][] = [
        [{ namespace: 'streams-test', pod: 'nope' }, /pod "streams-test\/nope" not found on node/],
        [{ namespace: 'streams-test', pod: 'elsewhere' }, /pod "streams-test\/elsewhere" not found on node/],
        [{ ...target(shell), uid: 'not-the-uid' as never }, /not found on node .*uid not-the-uid/],
        [target(shell, 'nginx'), /container "nginx" is not valid for pod "streams-test\/shell"/],
      ];
      for (const [t, msg] of cases) {
        const id = cloud.open(t, logsWhat);
        const end = await cloud.ended(id);
        expect(end.type).toBe('error');
        expect(end.type === 'error' ? end.message : '').toMatch(msg);
        expect(cloud.dataFrames(id)).toBe(0);
      }
      const stopped = cloud.open(target(finished), {
        type: 'exec',
        command: ['true'],
        stdin: false,
        stdout: true,
        stderr: true,
        tty: false,
      });
      const end = await cloud.ended(stopped);
      expect(end).toEqual({
        type: 'error',
        message: 'container "app" in pod "streams-test/finished" is not running',
      });
      // a log path that resolves outside the pod's log directory is never opened
      if (fid === undefined) throw new Error('no container');
      const st = await env.rt.containerStatus(fid);
      await rm(st.logPath);
      await symlink('/etc/passwd', st.logPath);
      const escape = cloud.open(target(finished), logsWhat);
      expect(await cloud.ended(escape)).toEqual({
        type: 'error',
        message: 'no log file for container "app" in pod "streams-test/finished"',
      });
      expect(cloud.dataFrames(escape)).toBe(0);
    });
  });

  it('edge/streams — the 65th concurrent stream is refused; cancel and link loss release the CRI streams', async () => {
    await withStreams(
      async (s, cloud) => {
        const cat = (n: number) =>
          cloud.open(target(shell), {
            type: 'exec',
            command: ['sh', '-c', `cat > /dev/null; echo released > /tmp/released-${n}`],
            stdin: true,
            stdout: true,
            stderr: true,
            tty: false,
          });
        const a = cat(1);
        const b = cat(2);
        const c = cat(3);
        const end = await cloud.ended(c);
        expect(end.type === 'error' ? end.message : '').toMatch(/too many concurrent streams .*limit 2/);
        await cloud.until('both accepted', () => cloud.grantedInput(a) && cloud.grantedInput(b));
        expect(s.openStreams).toBe(2);
        const metrics = await registry.metrics();
        expect(metrics).toContain('tether_edge_streams_refused_total{reason="limit"} 1');
        expect(metrics).toContain('tether_edge_streams_open{type="exec"} 2');
        // cancel from the cloud: the SPDY connection closes, containerd closes the process's stdin
        cloud.cancel(a);
        // link loss (contract §10): every stream of the session ends
        cloud.online = false;
        s.closeAll();
        expect(s.openStreams).toBe(0);
        const shellId = shell.containers.get('app');
        if (shellId === undefined) throw new Error('no container');
        for (const n of [1, 2])
          await waitFor(`exec ${n} to see stdin closed`, async () => {
            const r = await env.rt.execSync(shellId, ['cat', `/tmp/released-${n}`], 5);
            return r.exitCode === 0 && r.stdout.toString() === 'released\n' ? true : undefined;
          });
        expect(cloud.end(a)).toBeUndefined();
      },
      { maxStreams: 2 },
    );
  });
});
