import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pod, Volume } from '../cri/index.js';
import { PodSyncError } from './errors.js';
import type { Refs } from './refs.js';

/**
 * Pod volumes under `<rootDir>/<uid>/volumes/<plugin>/<name>`, as kubelet lays them out.
 * configMap, secret and downwardAPI contents are written like kubelet's AtomicWriter
 * (pkg/volume/util/atomic_writer.go): files go to a fresh `..<ts>` directory, `..data` is a
 * symlink to it swapped by rename(2), and each top-level entry is a symlink through `..data`.
 * A container bind-mounts the volume directory, so it sees the swap at once: a ConfigMap
 * change reaches the mounted files without a restart, and a reader never sees half a payload.
 */

const PLUGIN = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
} as const;

const DATA = '..data';

export interface FileEntry {
  readonly content: Buffer;
  readonly mode: number;
}

export function podDir(rootDir: string, uid: string): string {
  return path.join(rootDir, uid);
}

/** Prepares every volume of the pod; returns host paths by volume name (hostPath excluded). */
export async function setUpVolumes(
  pod: Pod,
  rootDir: string,
  refs: Refs,
  fields: { podIP: string; hostIP: string; nodeName: string },
): Promise<Record<string, string>> {
  const uid = pod.metadata.uid ?? '';
  const out: Record<string, string> = {};
  for (const v of pod.spec.volumes ?? []) {
    const kind = volumeKind(v);
    if (kind === 'hostPath') {
      await setUpHostPath(v);
      continue;
    }
    if (kind === undefined) continue; // unsupported volume types: the container build reports it
    const dir = path.join(podDir(rootDir, uid), 'volumes', PLUGIN[kind], v.name);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    out[v.name] = dir;
    if (kind === 'emptyDir') continue;
    const payload = payloadOf(pod, v, kind, refs, fields);
    if (payload !== undefined) await writeAtomic(dir, payload);
  }
  return out;
}

type Kind = keyof typeof PLUGIN | 'hostPath';

function volumeKind(v: Volume): Kind | undefined {
  if (v.emptyDir !== undefined) return 'emptyDir';
  if (v.hostPath !== undefined) return 'hostPath';
  if (v.configMap !== undefined) return 'configMap';
  if (v.secret !== undefined) return 'secret';
  if (v.downwardAPI !== undefined) return 'downwardAPI';
  return undefined;
}

async function setUpHostPath(v: Volume): Promise<void> {
  const hp = v.hostPath;
  if (hp === undefined) return;
  // kubelet's hostPath type checks, for the two types that create something.
  if (hp.type === 'DirectoryOrCreate') await mkdir(hp.path, { recursive: true, mode: 0o755 });
  else if (hp.type === 'FileOrCreate') {
    await mkdir(path.dirname(hp.path), { recursive: true });
    await writeFile(hp.path, '', { flag: 'a', mode: 0o644 });
  } else if (hp.type === 'Directory' || hp.type === 'File') {
    const s = await stat(hp.path).catch(() => undefined);
    const okType = hp.type === 'Directory' ? s?.isDirectory() : s?.isFile();
    if (okType !== true)
      throw new PodSyncError('VOLUME_SETUP', `hostPath type check failed: ${hp.path} is not a ${hp.type}`);
  }
}

function payloadOf(
  pod: Pod,
  v: Volume,
  kind: 'configMap' | 'secret' | 'downwardAPI',
  refs: Refs,
  fields: { podIP: string; hostIP: string; nodeName: string },
): Map<string, FileEntry> | undefined {
  const ns = pod.metadata.namespace ?? 'default';
  if (kind === 'downwardAPI') {
    const src = v.downwardAPI ?? {};
    const out = new Map<string, FileEntry>();
    for (const item of src.items ?? []) {
      const fp = item.fieldRef?.fieldPath;
      if (fp === undefined) continue;
      out.set(item.path, {
        content: Buffer.from(downwardValue(pod, fp, fields)),
        mode: item.mode ?? src.defaultMode ?? 0o644,
      });
    }
    return out;
  }
  const src = kind === 'configMap' ? v.configMap : v.secret;
  const name = (kind === 'configMap' ? v.configMap?.name : v.secret?.secretName) ?? '';
  const data = refs.data(kind === 'configMap' ? 'ConfigMap' : 'Secret', ns, name);
  const optional = src?.optional === true;
  if (data === undefined) {
    if (optional) return new Map();
    throw new PodSyncError(
      'VOLUME_SETUP',
      `MountVolume.SetUp failed for volume "${v.name}" : ${kind.toLowerCase()} "${name}" not found`,
    );
  }
  const defaultMode = src?.defaultMode ?? 0o644;
  const out = new Map<string, FileEntry>();
  if (src?.items === undefined) {
    for (const [k, c] of data) out.set(k, { content: c, mode: defaultMode });
  } else {
    for (const item of src.items) {
      const c = data.get(item.key);
      if (c === undefined) {
        if (optional) continue;
        throw new PodSyncError(
          'VOLUME_SETUP',
          `MountVolume.SetUp failed for volume "${v.name}" : key ${item.key} not found in ${name}`,
        );
      }
      out.set(item.path, { content: c, mode: item.mode ?? defaultMode });
    }
  }
  return out;
}

function downwardValue(
  pod: Pod,
  fieldPath: string,
  fields: { podIP: string; hostIP: string; nodeName: string },
): string {
  // Labels and annotations as kubelet formats them: sorted key="value" lines.
  const fmt = (m: Record<string, string> | undefined): string =>
    Object.keys(m ?? {})
      .sort()
      .map((k) => `${k}=${JSON.stringify(m?.[k] ?? '')}`)
      .join('\n');
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m !== null)
    return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2] ?? ''] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return fmt(pod.metadata.labels);
    case 'metadata.annotations':
      return fmt(pod.metadata.annotations);
    case 'spec.nodeName':
      return fields.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.podIP':
      return fields.podIP;
    case 'status.hostIP':
      return fields.hostIP;
    default:
      return '';
  }
}

function validRelative(p: string): boolean {
  return p !== '' && !path.isAbsolute(p) && !p.split('/').includes('..') && !p.startsWith('..');
}

/** The payload now visible through `..data`, or undefined when there is none. */
async function currentPayload(dir: string): Promise<Map<string, FileEntry> | undefined> {
  const target = await readlink(path.join(dir, DATA)).catch(() => undefined);
  if (target === undefined) return undefined;
  const out = new Map<string, FileEntry>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(dir, target, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(r);
      else {
        const full = path.join(dir, target, r);
        out.set(r, { content: await readFile(full), mode: (await stat(full)).mode & 0o777 });
      }
    }
  };
  await walk('');
  return out;
}

function samePayload(a: ReadonlyMap<string, FileEntry>, b: ReadonlyMap<string, FileEntry>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || w.mode !== v.mode || !w.content.equals(v.content)) return false;
  }
  return true;
}

/** kubelet AtomicWriter.Write: returns true when the visible payload changed. */
export async function writeAtomic(dir: string, payload: ReadonlyMap<string, FileEntry>): Promise<boolean> {
  for (const p of payload.keys()) {
    if (!validRelative(p)) throw new PodSyncError('VOLUME_SETUP', `invalid path ${p} in volume payload`);
  }
  const current = await currentPayload(dir);
  if (current !== undefined && samePayload(current, payload)) return false;

  const tsDir = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${randomBytes(4).toString('hex')}`;
  const full = path.join(dir, tsDir);
  await mkdir(full, { mode: 0o755 });
  for (const [p, f] of payload) {
    await mkdir(path.dirname(path.join(full, p)), { recursive: true });
    await writeFile(path.join(full, p), f.content, { mode: f.mode });
  }
  const oldTarget = await readlink(path.join(dir, DATA)).catch(() => undefined);
  // The swap: a new symlink renamed over ..data is atomic (rename(2)).
  const tmp = path.join(dir, '..data_tmp');
  await rm(tmp, { force: true });
  await symlink(tsDir, tmp);
  await rename(tmp, path.join(dir, DATA));

  // Top-level user-visible names point through ..data; stale ones go.
  const tops = new Set([...payload.keys()].map((p) => p.split('/')[0] ?? p));
  for (const t of tops) {
    const link = path.join(dir, t);
    const existing = await readlink(link).catch(() => undefined);
    if (existing === undefined) {
      await rm(link, { recursive: true, force: true });
      await symlink(path.join(DATA, t), link);
    }
  }
  for (const e of await readdir(dir)) {
    if (e.startsWith('..')) continue;
    if (!tops.has(e)) await rm(path.join(dir, e), { recursive: true, force: true });
  }
  if (oldTarget !== undefined && oldTarget !== tsDir) {
    await rm(path.join(dir, oldTarget), { recursive: true, force: true });
  }
  return true;
}

/** Removes the pod's directory (its volumes; hostPath volumes live elsewhere and stay). */
export async function tearDownPodDir(rootDir: string, uid: string): Promise<void> {
  if (uid === '' || uid.includes('/') || uid.includes('..')) return;
  await rm(podDir(rootDir, uid), { recursive: true, force: true });
}
