import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  rmdir,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Result } from '../../common/index.js';
import { parseQuantity, podCgroupParent, type KeyToPath, type Pod, type Volume } from '../cri/index.js';
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
  projected: 'kubernetes.io~projected',
} as const;

/**
 * A projected volume (core/v1 ProjectedVolumeSource). Typed here rather than in cri/podspec.ts,
 * which another component owns; read from the pod object as the API server stores it.
 */
export interface ProjectedVolume {
  sources?: ProjectedSource[];
  defaultMode?: number;
}

export interface ProjectedSource {
  configMap?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items?: DownwardItem[] };
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
  clusterTrustBundle?: { path: string };
}

interface DownwardItem {
  path: string;
  fieldRef?: { fieldPath: string };
  mode?: number;
}

/** What a token projection asks for (kubelet: the TokenRequest it would send). */
export interface TokenWant {
  readonly audience?: string;
  /** kubelet's default and floor: 3600 s (ServiceAccountTokenProjection.expirationSeconds). */
  readonly expirationSeconds: number;
}

/**
 * Service account tokens for projected volumes (the edge's token manager, tokens.ts). Synchronous:
 * it answers from what it holds and asks the cloud in the background; `err` carries why there is
 * no token yet, and the volume is not complete until there is one.
 */
export interface TokenSource {
  token(pod: Pod, want: TokenWant): Result<string, string>;
}

function projectedOf(v: Volume): ProjectedVolume | undefined {
  return (v as Volume & { projected?: ProjectedVolume }).projected;
}

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
  /** The most a memory-backed emptyDir may hold: min(node memory, the pod's memory limit). */
  memoryBytes = 0,
  /** Service account tokens for projected volumes; without one a token projection fails the mount. */
  tokens?: TokenSource,
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
    if (kind === 'emptyDir') {
      if (v.emptyDir?.medium === 'Memory') await mountTmpfs(dir, tmpfsSize(v, memoryBytes));
      continue;
    }
    const payload =
      kind === 'projected'
        ? projectedPayload(pod, v, refs, fields, tokens)
        : payloadOf(pod, v, kind, refs, fields);
    await writeAtomic(dir, payload);
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
  if (projectedOf(v) !== undefined) return 'projected';
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
): Map<string, FileEntry> {
  const out = new Map<string, FileEntry>();
  if (kind === 'downwardAPI') {
    const src = v.downwardAPI ?? {};
    addDownward(out, pod, src.items, src.defaultMode ?? 0o644, fields);
    return out;
  }
  const src = kind === 'configMap' ? v.configMap : v.secret;
  const name = (kind === 'configMap' ? v.configMap?.name : v.secret?.secretName) ?? '';
  addKeyed(out, pod, v.name, kind, name, src?.items, src?.optional === true, src?.defaultMode ?? 0o644, refs);
  return out;
}

/**
 * kubelet's projected volume plugin (pkg/volume/projected): every source's files merged into one
 * payload, written by the same atomic writer. Item modes override the volume's defaultMode.
 */
function projectedPayload(
  pod: Pod,
  v: Volume,
  refs: Refs,
  fields: { podIP: string; hostIP: string; nodeName: string },
  tokens: TokenSource | undefined,
): Map<string, FileEntry> {
  const p = projectedOf(v) ?? {};
  const mode = p.defaultMode ?? 0o644;
  const out = new Map<string, FileEntry>();
  for (const s of p.sources ?? []) {
    if (s.configMap !== undefined) {
      const c = s.configMap;
      addKeyed(out, pod, v.name, 'configMap', c.name ?? '', c.items, c.optional === true, mode, refs);
    } else if (s.secret !== undefined) {
      const c = s.secret;
      addKeyed(out, pod, v.name, 'secret', c.name ?? '', c.items, c.optional === true, mode, refs);
    } else if (s.downwardAPI !== undefined) {
      addDownward(out, pod, s.downwardAPI.items, mode, fields);
    } else if (s.serviceAccountToken !== undefined) {
      const t = s.serviceAccountToken;
      const want: TokenWant = {
        expirationSeconds: t.expirationSeconds ?? 3600,
        ...(t.audience === undefined || t.audience === '' ? {} : { audience: t.audience }),
      };
      const got =
        tokens === undefined
          ? ({ ok: false, error: 'this node has no service account token source' } as const)
          : tokens.token(pod, want);
      if (!got.ok)
        throw new PodSyncError(
          'VOLUME_SETUP',
          `MountVolume.SetUp failed for volume "${v.name}" : failed to fetch token: ${got.error}`,
        );
      out.set(t.path, { content: Buffer.from(got.value), mode });
    } else if (s.clusterTrustBundle !== undefined) {
      throw new PodSyncError(
        'VOLUME_SETUP',
        `MountVolume.SetUp failed for volume "${v.name}" : clusterTrustBundle projections are not supported at the edge`,
      );
    }
  }
  return out;
}

function addDownward(
  out: Map<string, FileEntry>,
  pod: Pod,
  items: readonly DownwardItem[] | undefined,
  defaultMode: number,
  fields: { podIP: string; hostIP: string; nodeName: string },
): void {
  for (const item of items ?? []) {
    const fp = item.fieldRef?.fieldPath;
    if (fp === undefined) continue;
    out.set(item.path, {
      content: Buffer.from(downwardValue(pod, fp, fields)),
      mode: item.mode ?? defaultMode,
    });
  }
}

/** The files of a ConfigMap or Secret source (whole object, or the listed items). */
function addKeyed(
  out: Map<string, FileEntry>,
  pod: Pod,
  volume: string,
  kind: 'configMap' | 'secret',
  name: string,
  items: readonly KeyToPath[] | undefined,
  optional: boolean,
  defaultMode: number,
  refs: Refs,
): void {
  const ns = pod.metadata.namespace ?? 'default';
  const data = refs.data(kind === 'configMap' ? 'ConfigMap' : 'Secret', ns, name);
  if (data === undefined) {
    if (optional) return;
    throw new PodSyncError(
      'VOLUME_SETUP',
      `MountVolume.SetUp failed for volume "${volume}" : ${kind.toLowerCase()} "${name}" not found`,
    );
  }
  if (items === undefined) {
    for (const [k, c] of data) out.set(k, { content: c, mode: defaultMode });
    return;
  }
  for (const item of items) {
    const c = data.get(item.key);
    if (c === undefined) {
      if (optional) continue;
      throw new PodSyncError(
        'VOLUME_SETUP',
        `MountVolume.SetUp failed for volume "${volume}" : key ${item.key} not found in ${name}`,
      );
    }
    out.set(item.path, { content: c, mode: item.mode ?? defaultMode });
  }
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
  const dir = podDir(rootDir, uid);
  // Memory-backed emptyDirs are tmpfs mounts: unmount them first, deepest first.
  for (const m of (await mountPoints())
    .filter((p) => p.startsWith(`${dir}/`))
    .sort()
    .reverse()) {
    await run('umount', [m]);
  }
  await rm(dir, { recursive: true, force: true });
}

const run = promisify(execFile);

/** Mount points of this mount namespace (/proc/self/mountinfo field 5, octal escapes decoded). */
async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && p !== '')
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/**
 * kubelet calculateEmptyDirMemorySize (SizeMemoryBackedVolumes, GA): the node's memory, lowered
 * to the pod's memory limit, lowered to the volume's sizeLimit.
 */
export function tmpfsSize(v: Volume, memoryBytes: number): number {
  let size = memoryBytes;
  const limit = v.emptyDir?.sizeLimit;
  if (limit !== undefined) {
    const q = parseQuantity(limit);
    if (q.ok && q.value.value() > 0 && (size <= 0 || q.value.value() <= size)) size = q.value.value();
  }
  return Math.floor(size);
}

async function mountTmpfs(dir: string, sizeBytes: number): Promise<void> {
  if ((await mountPoints()).includes(dir)) return;
  const opts = sizeBytes > 0 ? ['-o', `size=${sizeBytes}`] : [];
  try {
    await run('mount', ['-t', 'tmpfs', ...opts, 'tmpfs', dir]);
  } catch (e) {
    throw new PodSyncError('VOLUME_SETUP', `tmpfs for ${path.basename(dir)}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Bytes an emptyDir occupies on disk (kubelet's du-based measure: allocated blocks). */
export async function emptyDirUsage(rootDir: string, uid: string, name: string): Promise<number> {
  const dir = path.join(podDir(rootDir, uid), 'volumes', PLUGIN.emptyDir, name);
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(d, e.name);
      const st = await lstat(full).catch(() => undefined);
      if (st === undefined) continue;
      total += st.blocks * 512;
      if (st.isDirectory()) await walk(full);
    }
  };
  await walk(dir);
  return total;
}

/**
 * Removes the pod's cgroup (kubelet podContainerManager.Destroy): runc removes each container's
 * own cgroup but not the pod-level parent the sandbox config named. cgroupfs driver, v1 (one
 * tree per controller) and v2 (one tree); only empty directories are removed.
 */
export async function removePodCgroups(
  cgroupRoot: string,
  driver: 'cgroupfs' | 'systemd',
  uid: string,
  fsRoot = '/sys/fs/cgroup',
): Promise<void> {
  if (driver !== 'cgroupfs' || uid === '' || uid.includes('/') || !existsSync(fsRoot)) return;
  const parents = (['Guaranteed', 'Burstable', 'BestEffort'] as const).map((q) =>
    podCgroupParent(q, uid, cgroupRoot, driver),
  );
  const v2 = existsSync(path.join(fsRoot, 'cgroup.controllers'));
  const trees = v2
    ? [fsRoot]
    : (await readdir(fsRoot, { withFileTypes: true }))
        .filter((e) => e.isDirectory())
        .map((e) => path.join(fsRoot, e.name));
  for (const tree of trees) {
    for (const p of parents) {
      const dir = path.join(tree, p);
      if (existsSync(dir)) await rmdirDeep(dir);
    }
  }
}

async function rmdirDeep(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) await rmdirDeep(path.join(dir, e.name));
  }
  // A cgroup directory goes with rmdir(2) once it has no children and no tasks.
  await rmdir(dir).catch(() => undefined);
}
