/**
 * Key ranges and continue tokens.
 *
 * A prefix scan is the half-open range [prefix, prefixEnd(prefix)) on the BINARY collation
 * (memcmp of UTF-8). UTF-8 preserves code point order, so incrementing the last code point
 * gives the smallest string greater than every string that starts with the prefix
 * (the same trick as etcd's `clientv3.GetPrefixRangeEnd`).
 */
import { StorageError } from './errors.js';

/** The exclusive upper bound of keys starting with `prefix`; undefined = unbounded. */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (cps.length > 0) {
    const last = cps.pop() ?? 0;
    if (last < 0x10ffff) {
      let next = last + 1;
      if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // skip the surrogate range
      cps.push(next);
      return String.fromCodePoint(...cps);
    }
  }
  return undefined;
}

/**
 * Continue token: base64url(JSON) of the snapshot revision and the last key returned,
 * relative to the list prefix — the shape of upstream's `continueToken{v, rv, start}`
 * (apiserver/pkg/storage/continue.go), so a token cannot point outside its prefix.
 */
interface ContinueToken {
  v: 'tether.storage/v1';
  rv: number;
  start: string;
}

export function encodeContinue(revision: number, prefix: string, lastKey: string): string {
  const token: ContinueToken = { v: 'tether.storage/v1', rv: revision, start: lastKey.slice(prefix.length) };
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

export function decodeContinue(
  token: string,
  prefix: string,
): { ok: true; revision: number; lastKey: string } | { ok: false; error: StorageError } {
  const invalid = (why: string): { ok: false; error: StorageError } => ({
    ok: false,
    error: new StorageError('INVALID_CONTINUE', `continue key is not valid: ${why}`),
  });
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(token)) return invalid('not base64');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return invalid('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) return invalid('not an object');
  const t = parsed as Partial<ContinueToken>;
  if (t.v !== 'tether.storage/v1') return invalid('unknown version');
  if (typeof t.rv !== 'number' || !Number.isSafeInteger(t.rv) || t.rv < 0) return invalid('bad revision');
  if (typeof t.start !== 'string' || t.start === '') return invalid('bad start key');
  return { ok: true, revision: t.rv, lastKey: prefix + t.start };
}
