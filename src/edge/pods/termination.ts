import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
  type Container,
  type ContainerStatus,
  type Mount,
} from '../cri/index.js';

/**
 * Termination messages as kubelet (kuberuntime_container.go makeMounts / getTerminationMessage):
 * a host file per container start is bind-mounted at terminationMessagePath; when the container
 * has exited its content (at most 4096 bytes) is state.terminated.message. With
 * FallbackToLogsOnError, an empty file and a non-zero exit code, the last 80 log lines (at most
 * 2048 bytes) are the message instead.
 */

export const MAX_MESSAGE_BYTES = 4096;
export const MAX_LOG_LINES = 80;
export const MAX_LOG_BYTES = 2048;

/** Creates the host file for one container start and the mount for it (none for an empty path). */
export async function terminationLogMount(
  rootDir: string,
  uid: string,
  c: Container,
): Promise<Mount | undefined> {
  const target = c.terminationMessagePath ?? '/dev/termination-log';
  if (target === '') return undefined;
  const dir = path.join(rootDir, uid, 'containers', c.name);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  // kubelet names it by a random id per start, so a restart never sees the previous message.
  const file = path.join(dir, randomBytes(4).toString('hex'));
  await writeFile(file, '', { mode: 0o666 });
  return { containerPath: target, hostPath: file, readonly: false, propagation: 'private' };
}

/** Removes a removed container's message file (only one under `<rootDir>/`, never elsewhere). */
export async function removeTerminationLog(rootDir: string, s: ContainerStatus): Promise<void> {
  const target = s.annotations[ANNOTATION_TERMINATION_MESSAGE_PATH] ?? '/dev/termination-log';
  const mount = s.mounts.find((m) => m.containerPath === target);
  if (mount === undefined) return;
  const rel = path.relative(rootDir, mount.hostPath);
  if (rel.startsWith('..') || path.isAbsolute(rel) || !rel.split(path.sep).includes('containers')) return;
  await rm(mount.hostPath, { force: true });
}

async function readAtMost(file: string, max: number, fromEnd: boolean): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, fromEnd ? size - len : 0);
    return buf;
  } finally {
    await fh.close();
  }
}

/**
 * The message of an exited container; '' when there is none. Reads only files the container's
 * own mounts and log name (never a path from the pod spec alone).
 */
export async function terminationMessage(s: ContainerStatus): Promise<string> {
  const target = s.annotations[ANNOTATION_TERMINATION_MESSAGE_PATH] ?? '/dev/termination-log';
  const policy = s.annotations[ANNOTATION_TERMINATION_MESSAGE_POLICY] ?? 'File';
  const mount = target === '' ? undefined : s.mounts.find((m) => m.containerPath === target);
  let msg = '';
  if (mount !== undefined) {
    msg = (await readAtMost(mount.hostPath, MAX_MESSAGE_BYTES, false).catch(() => Buffer.alloc(0))).toString(
      'utf8',
    );
  }
  if (msg === '' && policy === 'FallbackToLogsOnError' && s.exitCode !== 0 && s.logPath !== '') {
    msg = await lastLogLines(s.logPath).catch(() => '');
  }
  return msg;
}

/**
 * kubelet readLastStringFromContainerLogs: ReadLogs with tailLines 80 and limitBytes 2048 — the
 * content of the last 80 lines, cut after 2048 bytes. Reads the CRI log format
 * (`<time> <stream> <P|F> <content>`), joining partial lines.
 */
export async function lastLogLines(logPath: string): Promise<string> {
  // 80 lines of at most 16 KiB each is the most that can matter; read a bounded tail.
  const raw = (await readAtMost(logPath, MAX_LOG_LINES * 16_384, true)).toString('utf8');
  const lines: string[] = [];
  let partial = '';
  for (const rec of raw.split('\n')) {
    const m = /^\S+ (?:stdout|stderr) ([PF]) (.*)$/.exec(rec);
    if (m === null) continue;
    if (m[1] === 'P') {
      partial += m[2] ?? '';
      continue;
    }
    lines.push(`${partial}${m[2] ?? ''}\n`);
    partial = '';
  }
  const text = lines.slice(-MAX_LOG_LINES).join('');
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= MAX_LOG_BYTES ? text : bytes.subarray(0, MAX_LOG_BYTES).toString('utf8');
}
