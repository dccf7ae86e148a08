import { createPublicKey, X509Certificate } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** File names inside the edge's credential directory. */
export const FILES = { ca: 'ca.crt', cert: 'node.crt', key: 'node.key' } as const;

export interface EdgeCredentials {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
  /** When this edge received the certificate (file time), the start of its rotation clock. */
  readonly obtainedAt: Date;
  readonly paths: { readonly cert: string; readonly key: string; readonly ca: string };
}

/** Writes `data` to `path` via a temp file + fsync + rename, so a crash leaves the old or the new file. */
export function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeDurable(tmp, data, mode);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

function writeDurable(path: string, data: string, mode: number): void {
  const fd = openSync(path, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** True when the certificate carries the public key of the private key. */
export function keyMatches(certPem: string, keyPem: string): boolean {
  const a = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  const b = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return a.equals(b);
}

/**
 * Replaces the node's key and certificate as a pair. Two files cannot be renamed at once, so:
 * both are written as `.next`, then the key is renamed, then the certificate. `loadCredentials`
 * finishes a pair interrupted between the two renames and discards one interrupted before them.
 */
export function writePair(dir: string, certPem: string, keyPem: string): void {
  const cert = join(dir, FILES.cert);
  const key = join(dir, FILES.key);
  writeDurable(`${key}.next`, keyPem, 0o600);
  writeDurable(`${cert}.next`, certPem, 0o644);
  fsyncDir(dir);
  renameSync(`${key}.next`, key);
  renameSync(`${cert}.next`, cert);
  fsyncDir(dir);
}

/** Reads the credentials written by `joinCloud` (or a rotation), repairing an interrupted rotation. */
export function loadCredentials(dir: string): EdgeCredentials {
  const paths = { cert: join(dir, FILES.cert), key: join(dir, FILES.key), ca: join(dir, FILES.ca) };
  if (existsSync(`${paths.key}.next`)) {
    // Crashed before the key was renamed: the old pair is intact.
    rmSync(`${paths.key}.next`, { force: true });
    rmSync(`${paths.cert}.next`, { force: true });
  } else if (existsSync(`${paths.cert}.next`)) {
    const next = readFileSync(`${paths.cert}.next`, 'utf8');
    // Crashed between the renames: the new key is in place, its certificate is .next.
    if (keyMatches(next, readFileSync(paths.key, 'utf8'))) renameSync(`${paths.cert}.next`, paths.cert);
    else rmSync(`${paths.cert}.next`, { force: true });
  }
  const certPem = readFileSync(paths.cert, 'utf8');
  const keyPem = readFileSync(paths.key, 'utf8');
  const caPem = readFileSync(paths.ca, 'utf8');
  return { certPem, keyPem, caPem, obtainedAt: statSync(paths.cert).mtime, paths };
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}
