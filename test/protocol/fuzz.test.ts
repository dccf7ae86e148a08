import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  decode,
  DEFAULT_LIMITS,
  encode,
  KINDS,
  PROTOCOL_ERROR_CODES,
  ProtocolError,
  type DecodeLimits,
  type ProtocolErrorCode,
} from '../../src/protocol/index.js';
import { EXAMPLES } from './samples.js';

/** mulberry32: a tiny seeded PRNG, so a failure reproduces from the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const raw = new Packr({ useRecords: false, variableMapSize: true, moreTypes: true });
const valid = EXAMPLES.map((e) => Uint8Array.from(encode(e)));
/** Byte sequences that make length headers and containers lie. */
const NASTY = [
  [0xdd, 0xff, 0xff, 0xff, 0xff],
  [0xdf, 0xff, 0xff, 0xff, 0xff],
  [0xdb, 0x7f, 0xff, 0xff, 0xff],
  [0xc6, 0xff, 0xff, 0xff, 0xff],
  [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0xd4, 0x72, 0x01],
  [0xd6, 0x69, 0, 0, 0, 1],
  [0xd6, 0x70, 0, 0, 0, 1],
  [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
  [0x9f],
  [0x8f],
  [0xc1],
];

type Outcome = 'ok' | ProtocolErrorCode;

/** Decodes and checks the contract: a typed Result, never an exception, valid values re-encode. */
function check(bytes: Uint8Array, limits: DecodeLimits, tally: Map<Outcome, number>): void {
  let r;
  try {
    r = decode(bytes, limits);
  } catch (e) {
    throw new Error(`decode threw on ${Buffer.from(bytes.subarray(0, 64)).toString('hex')}: ${String(e)}`);
  }
  if (r.ok) {
    if (!KINDS.includes(r.value.kind)) throw new Error(`decoded an unknown kind ${r.value.kind}`);
    // a value that validated must survive its own round trip
    const again = decode(encode(r.value), DEFAULT_LIMITS);
    if (!again.ok) throw new Error(`accepted value does not round-trip: ${again.error.message}`);
    tally.set('ok', (tally.get('ok') ?? 0) + 1);
  } else {
    if (!(r.error instanceof ProtocolError) || !PROTOCOL_ERROR_CODES.includes(r.error.code))
      throw new Error(`untyped failure ${String(r.error)}`);
    tally.set(r.error.code, (tally.get(r.error.code) ?? 0) + 1);
  }
}

/** Replace one random field (at any depth) of a decoded example with a random value. */
function mutateValue(v: unknown, rnd: () => number, depth = 0): unknown {
  const randomLeaf = (): unknown => {
    const choices: unknown[] = [
      null,
      true,
      -1,
      2 ** 40,
      1.5,
      '',
      'x'.repeat(Math.floor(rnd() * 300)),
      [],
      {},
      new Uint8Array(3),
      [1, 'a'],
      { v: 1 },
      2,
      0,
      'sync',
      'upsert',
      'teleport',
    ];
    return choices[Math.floor(rnd() * choices.length)];
  };
  if (depth > 4 || typeof v !== 'object' || v === null || v instanceof Uint8Array) return randomLeaf();
  if (Array.isArray(v)) {
    const a = v as unknown[];
    if (a.length === 0 || rnd() < 0.2) return [...a, randomLeaf()];
    const i = Math.floor(rnd() * a.length);
    return a.map((x, j) => (j === i ? mutateValue(x, rnd, depth + 1) : x));
  }
  const o = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(o);
  const r = rnd();
  if (r < 0.1 || keys.length === 0) o[`k${Math.floor(rnd() * 5)}`] = randomLeaf();
  else if (r < 0.25) Reflect.deleteProperty(o, keys[Math.floor(rnd() * keys.length)]!);
  else {
    const k = keys[Math.floor(rnd() * keys.length)]!;
    o[k] = rnd() < 0.5 ? randomLeaf() : mutateValue(o[k], rnd, depth + 1);
  }
  return o;
}

describe('protocol fuzz — decode never throws', () => {
  it('protocol — 100,000 random, bit-flipped, truncated, spliced and field-mutated frames give typed Results', () => {
    const seed = Number(process.env['TETHER_FUZZ_SEED'] ?? 20261126);
    const rnd = prng(seed);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
    const tally = new Map<Outcome, number>();
    const small: DecodeLimits = { maxFrameBytes: 512, maxDepth: 6 };
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) {
      const base = pick(valid);
      let bytes: Uint8Array;
      const mode = i % 8;
      switch (mode) {
        case 0: {
          // random bytes, first byte biased towards a map so some get past the first check
          bytes = new Uint8Array(Math.floor(rnd() * 160));
          for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
          if (bytes.length > 0 && rnd() < 0.5) bytes[0] = 0x80 | Math.floor(rnd() * 16);
          break;
        }
        case 1:
        case 2: {
          bytes = Uint8Array.from(base);
          const flips = 1 + Math.floor(rnd() * 6);
          for (let f = 0; f < flips; f++) {
            const at = Math.floor(rnd() * bytes.length);
            bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(rnd() * 8));
          }
          break;
        }
        case 3:
          bytes = base.subarray(0, Math.floor(rnd() * base.length));
          break;
        case 4: {
          const other = pick(valid);
          const cut = Math.floor(rnd() * base.length);
          bytes = new Uint8Array([
            ...base.subarray(0, cut),
            ...other.subarray(Math.floor(rnd() * other.length)),
          ]);
          break;
        }
        case 5: {
          const at = Math.floor(rnd() * base.length);
          const nasty = pick(NASTY);
          const replace = rnd() < 0.5 ? nasty.length : 0;
          bytes = new Uint8Array([
            ...base.subarray(0, at),
            ...nasty,
            ...base.subarray(Math.min(base.length, at + replace)),
          ]);
          break;
        }
        default: {
          // structurally valid MessagePack with one field changed: exercises the validators
          const src = pick(EXAMPLES);
          let v: unknown = src;
          const n = 1 + Math.floor(rnd() * 2);
          for (let m = 0; m < n; m++) v = mutateValue(v, rnd);
          bytes = raw.pack(v);
        }
      }
      check(bytes, rnd() < 0.05 ? small : DEFAULT_LIMITS, tally);
    }
    const ms = performance.now() - started;
    const total = [...tally.values()].reduce((a, b) => a + b, 0);
    console.log(`fuzz seed ${seed}: ${total} frames in ${Math.round(ms)} ms`, Object.fromEntries(tally));
    expect(total).toBe(100_000);
    // every outcome was reached, so the fuzzer really exercised each path
    for (const o of ['ok', ...PROTOCOL_ERROR_CODES] as const) expect(tally.get(o) ?? 0, o).toBeGreaterThan(0);
  });

  it('protocol — arbitrary values (fast-check anything, incl. Dates, Maps, typed arrays) never make decode throw', () => {
    const tally = new Map<Outcome, number>();
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withNullPrototype: true,
        }),
        (v) => {
          let bytes: Uint8Array;
          try {
            bytes = raw.pack(v);
          } catch {
            return; // not encodable at all: nothing to decode
          }
          check(bytes, DEFAULT_LIMITS, tally);
        },
      ),
      { numRuns: 3000, seed: 7 },
    );
    expect(tally.size).toBeGreaterThan(0);
  });

  it('protocol — arbitrary bytes never make decode throw', () => {
    const tally = new Map<Outcome, number>();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => {
        check(b, DEFAULT_LIMITS, tally);
      }),
      { numRuns: 5000, seed: 11 },
    );
    expect(tally.get('MALFORMED') ?? 0).toBeGreaterThan(4000);
  });
});
