import { lstat, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger, ConfigError } from '../../../src/common/index.js';
import type { Pod, RuntimeClient } from '../../../src/edge/cri/index.js';
import {
  PodManager,
  lastLogLines,
  podPhase,
  runHook,
  tmpfsSize,
  pullPolicy,
  registryOf,
  resolvePort,
  rfc3339,
  writeAtomic,
} from '../../../src/edge/pods/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-pods-unit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (s: string, mode = 0o644): { content: Buffer; mode: number } => ({
  content: Buffer.from(s),
  mode,
});

describe('edge/pods units', () => {
  it('edge/pods — atomic writer: ..data symlink swap, user files through it, stale keys and old payload removed', async () => {
    expect(
      await writeAtomic(
        dir,
        new Map([
          ['a', file('1')],
          ['sub/b', file('2', 0o600)],
        ]),
      ),
    ).toBe(true);
    const first = await readlink(path.join(dir, '..data'));
    expect(await readlink(path.join(dir, 'a'))).toBe('..data/a');
    expect(await readFile(path.join(dir, 'sub', 'b'), 'utf8')).toBe('2');
    expect((await lstat(path.join(dir, first, 'sub', 'b'))).mode & 0o777).toBe(0o600);
    // The same payload again writes nothing.
    expect(
      await writeAtomic(
        dir,
        new Map([
          ['a', file('1')],
          ['sub/b', file('2', 0o600)],
        ]),
      ),
    ).toBe(false);
    expect(await writeAtomic(dir, new Map([['a', file('changed')]]))).toBe(true);
    const second = await readlink(path.join(dir, '..data'));
    expect(second).not.toBe(first);
    expect(await readFile(path.join(dir, 'a'), 'utf8')).toBe('changed');
    expect((await readdir(dir)).sort()).toEqual(['..data', second, 'a'].sort());
  });

  it('edge/pods — atomic writer refuses paths that leave the volume', async () => {
    await expect(writeAtomic(dir, new Map([['../escape', file('x')]]))).rejects.toMatchObject({
      code: 'VOLUME_SETUP',
    });
    await expect(writeAtomic(dir, new Map([['/abs', file('x')]]))).rejects.toMatchObject({
      code: 'VOLUME_SETUP',
    });
  });

  it('edge/pods — default pull policy and registry host like kubelet and docker', () => {
    expect(pullPolicy({ image: 'busybox' })).toBe('Always');
    expect(pullPolicy({ image: 'busybox:latest' })).toBe('Always');
    expect(pullPolicy({ image: 'localhost:5000/tether/shell:1' })).toBe('IfNotPresent');
    expect(pullPolicy({ image: 'x@sha256:abc' })).toBe('IfNotPresent');
    expect(pullPolicy({ image: 'busybox', imagePullPolicy: 'Never' })).toBe('Never');
    expect(registryOf('busybox')).toBe('docker.io');
    expect(registryOf('library/busybox:1')).toBe('docker.io');
    expect(registryOf('localhost:5000/tether/shell:1')).toBe('localhost:5000');
    expect(registryOf('ghcr.io/a/b')).toBe('ghcr.io');
  });

  it('edge/pods — named probe ports resolve through the container ports', () => {
    const c = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] };
    expect(resolvePort('http', c)).toBe(8080);
    expect(resolvePort('81', c)).toBe(81);
    expect(resolvePort('nope', c)).toBeUndefined();
    expect(resolvePort(0, c)).toBeUndefined();
  });

  it('edge/pods — phase follows kubelet getPhase', () => {
    const pod = (restartPolicy: 'Always' | 'OnFailure' | 'Never'): Pod => ({
      metadata: {},
      spec: { restartPolicy, containers: [] },
    });
    const exited = (exitCode: number) => ({ state: 'exited', exitCode }) as never;
    const v = (current: unknown, waiting?: { reason: string }) =>
      ({
        spec: { name: 'c' },
        current,
        previous: undefined,
        restartCount: 0,
        waiting,
        ready: false,
        started: false,
      }) as never;
    expect(podPhase(pod('Always'), [], [v(undefined)])).toBe('Pending');
    expect(podPhase(pod('Always'), [], [v({ state: 'running' })])).toBe('Running');
    expect(podPhase(pod('Always'), [], [v(exited(1), { reason: 'CrashLoopBackOff' })])).toBe('Running');
    expect(podPhase(pod('Never'), [], [v(exited(0))])).toBe('Succeeded');
    expect(podPhase(pod('Never'), [], [v(exited(2))])).toBe('Failed');
    expect(podPhase(pod('OnFailure'), [], [v(exited(0))])).toBe('Succeeded');
    expect(podPhase(pod('Never'), [v(exited(1))], [v(undefined)])).toBe('Failed');
    expect(podPhase(pod('Always'), [v({ state: 'running' })], [v(undefined)])).toBe('Pending');
    expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05Z');
  });

  it('edge/pods — phase with sidecars follows kubelet 1.34 getPhase (KEP-753)', () => {
    const pod: Pod = { metadata: {}, spec: { restartPolicy: 'Never', containers: [] } };
    const view = (sidecar: boolean, current: unknown, extra: object = {}) =>
      ({
        spec: { name: 'x', ...(sidecar ? { restartPolicy: 'Always' } : {}) },
        current,
        previous: undefined,
        restartCount: 0,
        waiting: undefined,
        ready: false,
        started: false,
        ...extra,
      }) as never;
    const running = { state: 'running' };
    const exited = (exitCode: number) => ({ state: 'exited', exitCode });
    // A sidecar that has not started yet keeps an uninitialized pod Pending.
    expect(podPhase(pod, [view(true, running)], [view(false, undefined)])).toBe('Pending');
    // Started sidecar + running main container: Running.
    expect(podPhase(pod, [view(true, running, { started: true })], [view(false, running)])).toBe('Running');
    // Main done, sidecar still running: still Running (the sidecar is stopped next).
    expect(podPhase(pod, [view(true, running, { started: true })], [view(false, exited(0))])).toBe('Running');
    // Main done, sidecar terminated (by its SIGTERM: 143): it counts neither way — Succeeded.
    expect(podPhase(pod, [view(true, exited(143))], [view(false, exited(0))])).toBe('Succeeded');
    expect(podPhase(pod, [view(true, exited(143))], [view(false, exited(1))])).toBe('Failed');
  });

  it('edge/pods — FallbackToLogsOnError reads the CRI log: partial lines joined, the last 80 lines, at most 2048 bytes', async () => {
    const log = path.join(dir, '0.log');
    const rec = (stream: string, tag: string, text: string): string =>
      `2026-11-26T21:00:00.000000000Z ${stream} ${tag} ${text}\n`;
    let body = rec('stdout', 'P', 'hel') + rec('stderr', 'F', 'lo');
    for (let i = 1; i <= 100; i++) body += rec('stdout', 'F', `line-${i}`);
    await writeFile(log, body);
    const tail = await lastLogLines(log);
    expect(tail.startsWith('line-21\n')).toBe(true);
    expect(tail.endsWith('line-100\n')).toBe(true);
    await writeFile(log, rec('stdout', 'P', 'hel') + rec('stderr', 'F', 'lo'));
    expect(await lastLogLines(log)).toBe('hello\n');
    // Long lines: the 80-line tail is cut after 2048 bytes.
    await writeFile(
      log,
      Array.from({ length: 90 }, (_, i) => rec('stdout', 'F', `${i}`.padEnd(100, 'x'))).join(''),
    );
    const cut = await lastLogLines(log);
    expect(Buffer.byteLength(cut)).toBe(2048);
    expect(cut.startsWith('10x')).toBe(true);
  });

  it('edge/pods — a memory-backed emptyDir is sized min(node/pod memory, sizeLimit); tcpSocket hooks fail as in kubelet', async () => {
    const vol = (sizeLimit?: string) =>
      ({
        name: 'm',
        emptyDir: { medium: 'Memory', ...(sizeLimit === undefined ? {} : { sizeLimit }) },
      }) as const;
    expect(tmpfsSize(vol(), 64 * 1024 * 1024)).toBe(64 * 1024 * 1024);
    expect(tmpfsSize(vol('4Mi'), 64 * 1024 * 1024)).toBe(4 * 1024 * 1024);
    // A sizeLimit above what the pod may use does not raise it.
    expect(tmpfsSize(vol('1Gi'), 64 * 1024 * 1024)).toBe(64 * 1024 * 1024);
    const r = await runHook(
      {} as RuntimeClient,
      { tcpSocket: { port: 80 } },
      {
        containerId: 'c' as never,
        container: { name: 'c' },
        host: '127.0.0.1',
        timeoutSeconds: 1,
      },
    );
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(/^Cannot run handler: invalid handler/);
  });

  it('edge/pods — config is validated at construction (ConfigError lists the problems)', () => {
    const store = new EdgeStore({ path: path.join(dir, 's.db') });
    const make = (c: object): PodManager =>
      new PodManager(c as never, {
        store,
        runtime: {} as RuntimeClient,
        logger: silentLogger(),
        registry: createRegistry(),
      });
    expect(() => make({ nodeName: '' })).toThrow(ConfigError);
    expect(() =>
      make({ nodeName: 'n', imageGcHighThresholdPercent: 50, imageGcLowThresholdPercent: 60 }),
    ).toThrow(ConfigError);
    expect(() => make({ nodeName: 'n', bogus: 1 })).toThrow(ConfigError);
    expect(make({ nodeName: 'n' }).name).toBe('pods');
  });
});
