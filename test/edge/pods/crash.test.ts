import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../../../src/edge/cri/index.js';
import type { ObjectKey } from '../../../src/protocol/index.js';
import {
  CRI_SOCKET,
  SHELL_IMAGE,
  TEST_RUN_LABEL,
  containerId,
  disposeEnv,
  makePod,
  newEnv,
  outboxStatus,
  putPod,
  podKey,
  testConfig,
  waitFor,
  waitStatus,
  type Env,
} from './helpers.js';

let env: Env;
const children: ChildProcess[] = [];

beforeAll(async () => {
  env = await newEnv('crash');
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await disposeEnv(env);
});

/** The agent as its own process (no npx wrapper, so SIGKILL really kills it). */
async function startAgent(): Promise<ChildProcess> {
  const arg = JSON.stringify({
    storePath: path.join(env.dir, 'edge.db'),
    socket: CRI_SOCKET,
    config: testConfig(env.run, env.dir, env.nodeName),
  });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'agent.ts'), arg],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('started')) resolve();
    });
    child.once('exit', (code) => {
      reject(new Error(`agent exited early (${String(code)})`));
    });
  });
  return child;
}

/**
 * Hands one sync message to the running agent, which applies it to its store (one writer per
 * store, as in production) and answers "applied".
 */
async function sendSync(
  child: ChildProcess,
  op: 'upsert' | 'delete',
  key: ObjectKey,
  uid: string,
  object?: object,
): Promise<void> {
  env.seq++;
  const msg = {
    kind: 'sync',
    op,
    seq: env.seq,
    key,
    uid,
    resourceVersion: String(env.seq),
    ...(object === undefined ? {} : { object }),
  };
  const answer = new Promise<string>((resolve) => {
    const on = (d: Buffer): void => {
      const t = d.toString();
      if (t.includes('applied') || t.includes('apply failed')) {
        child.stdout?.off('data', on);
        resolve(t.trim());
      }
    };
    child.stdout?.on('data', on);
  });
  child.stdin?.write(`${JSON.stringify(msg)}\n`);
  expect(await answer).toBe('applied');
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const NAMES = ['a', 'b', 'c'];

describe('edge/pods crash safety (real containerd, agent in a child process)', () => {
  it('edge/pods — SIGKILL during pod start, then restart: pods adopted, no duplicate sandboxes or containers', async () => {
    const pods = NAMES.map((n) =>
      makePod(env, `crash-${n}`, {
        initContainers: [{ name: 'init', image: SHELL_IMAGE, command: ['true'] }],
        containers: [
          { name: 'one', image: SHELL_IMAGE, command: ['sleep', '3600'] },
          { name: 'two', image: SHELL_IMAGE, command: ['sleep', '3600'] },
        ],
      }),
    );
    for (const p of pods) putPod(env, p);

    const first = await startAgent();
    // Kill as soon as the runtime shows the first sandbox: pod start is in full swing.
    await waitFor(
      'a first sandbox',
      async () =>
        (await env.rt.listPodSandbox({ labels: { [TEST_RUN_LABEL]: env.run } })).length > 0
          ? true
          : undefined,
      30_000,
      10,
    );
    await kill9(first);

    const second = await startAgent();
    for (const p of pods) {
      await waitStatus(
        env,
        p.metadata.name ?? '',
        (s) => s.phase === 'Running' && s.containerStatuses?.every((c) => c.ready) === true,
        'Running',
      );
    }
    const idsBefore = new Map<string, string[]>();
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      const boxes = await env.rt.listPodSandbox({ labels: { [LABEL_POD_UID]: uid } });
      expect(boxes).toHaveLength(1);
      const cs = await env.rt.listContainers({ labels: { [LABEL_POD_UID]: uid } });
      const byName = (n: string): number => cs.filter((c) => c.labels[LABEL_CONTAINER_NAME] === n).length;
      expect([byName('init'), byName('one'), byName('two')]).toEqual([1, 1, 1]);
      const s = outboxStatus(env, p.metadata.name ?? '');
      expect(s?.containerStatuses?.map((c) => c.restartCount)).toEqual([0, 0]);
      idsBefore.set(uid, s?.containerStatuses?.map((c) => containerId(c)) ?? []);
    }

    // A second SIGKILL of a settled agent: the next one adopts the running pods untouched.
    await kill9(second);
    const third = await startAgent();
    const extra = makePod(env, 'crash-late', {
      containers: [{ name: 'one', image: SHELL_IMAGE, command: ['sleep', '3600'] }],
    });
    await sendSync(third, 'upsert', podKey('crash-late'), extra.metadata.uid ?? '', extra);
    await waitStatus(env, 'crash-late', (s) => s.phase === 'Running', 'Running');
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      const running = await env.rt.listContainers({ labels: { [LABEL_POD_UID]: uid }, state: 'running' });
      expect(running.map((c) => c.id).sort()).toEqual([...(idsBefore.get(uid) ?? [])].sort());
    }

    // The cloud removed a pod while the agent ran: it is stopped and removed (not left orphaned).
    const gone = pods[0];
    await sendSync(third, 'delete', podKey(gone?.metadata.name ?? ''), gone?.metadata.uid ?? '');
    await waitFor('the removed pod to disappear from the runtime', async () =>
      (await env.rt.listPodSandbox({ labels: { [LABEL_POD_UID]: gone?.metadata.uid ?? '' } })).length === 0
        ? true
        : undefined,
    );
    await kill9(third);
  });
});
