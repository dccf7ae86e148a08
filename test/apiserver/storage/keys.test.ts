import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { decodeContinue, encodeContinue, prefixEnd } from '../../../src/apiserver/storage/keys.js';

/** SQLite's BINARY collation: memcmp of the UTF-8 bytes. */
const cmp = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('storage keys', () => {
  it('storage — prefixEnd bounds exactly the keys that start with the prefix', () => {
    expect(prefixEnd('/registry/pods/')).toBe('/registry/pods0');
    expect(prefixEnd('')).toBeUndefined();
    expect(prefixEnd('\u{10FFFF}')).toBeUndefined();
    expect(prefixEnd('a\u{10FFFF}')).toBe('b');
    expect(prefixEnd('a\uD7FF')).toBe('a\uE000');
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme-composite', maxLength: 4 }),
        fc.string({ unit: 'grapheme-composite', maxLength: 6 }),
        (p, s) => {
          const end = prefixEnd(p);
          const inRange = cmp(s, p) >= 0 && (end === undefined || cmp(s, end) < 0);
          expect(inRange).toBe(s.startsWith(p));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('storage — continue tokens round-trip and are relative to the prefix', () => {
    const t = encodeContinue(42, '/registry/pods/ns/', '/registry/pods/ns/web-1');
    expect(decodeContinue(t, '/registry/pods/ns/')).toEqual({
      ok: true,
      revision: 42,
      lastKey: '/registry/pods/ns/web-1',
    });
    expect(JSON.parse(Buffer.from(t, 'base64url').toString())).toEqual({
      v: 'tether.storage/v1',
      rv: 42,
      start: 'web-1',
    });
    const bad = decodeContinue('%%%', '/x/');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.code).toBe('INVALID_CONTINUE');
  });
});
