import { Packr, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { TetherError } from '../../src/common/index.js';
import {
  chooseProtocol,
  decode,
  DEFAULT_LIMITS,
  encode,
  KINDS,
  ProtocolError,
  resourceVersion,
  type Envelope,
  type ProtocolErrorCode,
} from '../../src/protocol/index.js';
import { EXAMPLE_KINDS, EXAMPLES, podSync, streamDataFrame } from './samples.js';

/** A raw encoder for frames our typed `encode` would never produce. */
const raw = new Packr({ useRecords: false, variableMapSize: true });
const frame = (v: unknown): Uint8Array => raw.pack(v);

/** Binary values compare by bytes: decoded bins are Buffers (views of the frame), sent ones Uint8Arrays. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Array.from(v) };
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

function expectError(bytes: Uint8Array, code: ProtocolErrorCode, limits = DEFAULT_LIMITS): ProtocolError {
  const r = decode(bytes, limits);
  if (r.ok) throw new Error(`expected ${code}, decoded ${r.value.kind}`);
  expect(r.error).toBeInstanceOf(ProtocolError);
  expect(r.error.code).toBe(code);
  return r.error;
}

const header = { v: 1, id: 'm1', ts: 1_795_000_000_000 };

describe('protocol codec — round trip', () => {
  it('protocol — the examples cover every kind', () => {
    expect([...EXAMPLE_KINDS].sort()).toEqual([...KINDS].sort());
  });

  it.each(EXAMPLES.map((e, i) => [`${i} ${e.kind}`, e] as const))(
    'protocol — round trip of %s',
    (_name, env) => {
      const bytes = encode(env);
      const r = decode(bytes);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(normalize(r.value)).toEqual(normalize(env));
    },
  );

  it('protocol — stream data stays binary: no base64, frame ≈ payload + a few bytes', () => {
    const env = streamDataFrame(32 * 1024);
    const bytes = encode(env);
    expect(bytes.length).toBeLessThan(32 * 1024 + 128);
    const r = decode(bytes);
    expect(r.ok && r.value.kind === 'streamData' && r.value.data instanceof Uint8Array).toBe(true);
    if (r.ok && r.value.kind === 'streamData') expect(Buffer.compare(r.value.data, env.data)).toBe(0);
  });

  it("protocol — a sync resourceVersion may differ from the object's own (the cloud's sync version)", () => {
    const r = decode(encode({ ...podSync, resourceVersion: resourceVersion('h:digest') }));
    expect(r.ok && r.value.kind === 'sync' && r.value.resourceVersion).toBe('h:digest');
  });

  it('protocol — undefined properties in JSON payloads are dropped like JSON.stringify does', () => {
    const up = podSync as Envelope<'sync'> & { op: 'upsert' };
    const env = { ...up, object: { ...up.object, spec: { nodeName: 'n', hostname: undefined } } };
    const r = decode(encode(env as unknown as Envelope));
    expect(r.ok).toBe(true);
    if (r.ok && r.value.kind === 'sync' && r.value.op === 'upsert') {
      expect(r.value.object['spec']).toEqual({ nodeName: 'n' });
      expect(Object.hasOwn(r.value.object['spec'] as object, 'hostname')).toBe(false);
    }
  });

  it('protocol — a frame inside a larger pooled buffer (as ws hands them out) decodes by its own bounds', () => {
    const bytes = encode(podSync);
    const pool = new Uint8Array(bytes.length + 300).fill(0xc1);
    pool.set(bytes, 100);
    const r = decode(pool.subarray(100, 100 + bytes.length));
    expect(r.ok && r.value.kind === 'sync' && r.value.seq).toBe(podSync.seq);
  });

  it('protocol — an encoded frame is not overwritten by later encodes', () => {
    const a = encode(podSync);
    const copy = Uint8Array.from(a);
    for (const e of EXAMPLES) encode(e);
    expect(Buffer.compare(a, copy)).toBe(0);
  });
});

describe('protocol codec — error codes', () => {
  it('protocol — FRAME_TOO_LARGE is decided before decoding', () => {
    const bytes = encode(podSync);
    const e = expectError(bytes, 'FRAME_TOO_LARGE', { ...DEFAULT_LIMITS, maxFrameBytes: bytes.length - 1 });
    expect(e.message).toContain(String(bytes.length));
    expect(decode(bytes, { maxFrameBytes: bytes.length }).ok).toBe(true);
    // even garbage is reported as too large, not malformed: nothing of it was read
    expectError(new Uint8Array(5 * 1024 * 1024).fill(0xc1), 'FRAME_TOO_LARGE');
  });

  it('protocol — MALFORMED for bytes that are not one MessagePack value', () => {
    expectError(new Uint8Array([]), 'MALFORMED');
    expectError(new Uint8Array([0xc1]), 'MALFORMED');
    expectError(encode(podSync).subarray(0, 100), 'MALFORMED');
    const trailing = new Uint8Array([...encode(podSync), 0x00]);
    expect(expectError(trailing, 'MALFORMED').message).toContain('trailing');
    expectError(new TextEncoder().encode(JSON.stringify(podSync)), 'MALFORMED');
  });

  it('protocol — MALFORMED for a frame that is not a map', () => {
    expectError(frame([1, 2, 3]), 'MALFORMED');
    expectError(frame('hello'), 'MALFORMED');
    expectError(frame(null), 'MALFORMED');
  });

  it('protocol — MALFORMED for types outside the envelope: ext, NaN, non-string keys, unsafe int64', () => {
    // msgpackr would build a Date, a Set, a RegExp, an Error from these ext types
    const packMore = new Packr({ useRecords: false, moreTypes: true });
    for (const v of [new Date(0), new Set([1]), /a+$/, new Error('x'), new Float64Array(2)]) {
      const e = expectError(packMore.pack({ ...header, kind: 'ping', x: v }), 'MALFORMED');
      expect(e.message).toContain('extension type not allowed');
    }
    expectError(frame({ ...header, kind: 'pong', ref: 'p', echo: NaN }), 'MALFORMED');
    expectError(frame({ ...header, kind: 'pong', ref: 'p', echo: Infinity }), 'MALFORMED');
    const nonStringKey = new Packr({ useRecords: false, mapsAsObjects: false }).pack(
      new Map<unknown, unknown>([[1, 2]]),
    );
    expect(expectError(nonStringKey, 'MALFORMED').message).toContain('map key');
    // { v: 1, ts: 2^63 - 1 } as int64: not representable as a JS number
    const big = new Uint8Array([
      0x82, 0xa1, 0x76, 0x01, 0xa2, 0x74, 0x73, 0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    expect(expectError(big, 'MALFORMED').message).toContain('safe range');
  });

  it('protocol — UNSUPPORTED_VERSION for a frame of another envelope version', () => {
    const e = expectError(frame({ ...header, v: 2, kind: 'sync', whatever: true }), 'UNSUPPORTED_VERSION');
    expect(e.message).toContain('version 2');
    expectError(frame({ ...header, v: 0, kind: 'ping' }), 'UNSUPPORTED_VERSION');
    // a v2 frame with a kind v1 does not know still reports the version, the actual cause
    expectError(frame({ ...header, v: 2, kind: 'teleport' }), 'UNSUPPORTED_VERSION');
    expect(expectError(frame({ ...header, v: '1', kind: 'ping' }), 'INVALID_FIELD').path).toBe('v');
    expect(expectError(frame({ id: 'x', ts: 1, kind: 'ping' }), 'INVALID_FIELD').path).toBe('v');
  });

  it('protocol — UNKNOWN_KIND names the kind', () => {
    const e = expectError(frame({ ...header, kind: 'teleport' }), 'UNKNOWN_KIND');
    expect(e.message).toContain('teleport');
    // inherited property names are not kinds
    expectError(frame({ ...header, kind: 'toString' }), 'UNKNOWN_KIND');
    expectError(frame({ ...header, kind: '__proto__' }), 'UNKNOWN_KIND');
  });

  it.each([
    [
      {
        ...header,
        kind: 'sync',
        seq: 1,
        op: 'upsert',
        key: { ...podSync.key, name: 5 },
        uid: 'u',
        resourceVersion: '1',
        object: {},
      },
      'key.name',
    ],
    [
      { ...header, kind: 'sync', seq: -1, op: 'delete', key: podSync.key, uid: 'u', resourceVersion: '1' },
      'seq',
    ],
    [
      { ...header, kind: 'sync', seq: 1, op: 'patch', key: podSync.key, uid: 'u', resourceVersion: '1' },
      'op',
    ],
    [
      {
        ...header,
        kind: 'sync',
        seq: 1,
        op: 'upsert',
        key: podSync.key,
        uid: 'u',
        resourceVersion: '1',
        object: [],
      },
      'object',
    ],
    [{ ...header, kind: 'ack', of: 'sync' }, 'seq'],
    // an upsert's object must be the one its header names (present fields only)
    [{ ...podSync, key: { ...podSync.key, name: 'other' } }, 'object.metadata.name'],
    [{ ...podSync, key: { ...podSync.key, namespace: 'prod' } }, 'object.metadata.namespace'],
    [{ ...podSync, key: { ...podSync.key, kind: 'Secret' } }, 'object.kind'],
    [{ ...podSync, key: { ...podSync.key, group: 'apps' } }, 'object.apiVersion'],
    [{ ...podSync, uid: 'someone-else' }, 'object.metadata.uid'],
    [{ ...header, kind: 'hello', agentVersion: '1', protocols: [1, 'two'] }, 'protocols[1]'],
    [
      { ...header, kind: 'inventory', chunk: 0, last: true, items: [{ key: podSync.key, uid: 'u' }] },
      'items[0].resourceVersion',
    ],
    [{ ...header, kind: 'status', key: podSync.key, write: { type: 'podStatus' } }, 'write.payload'],
    [{ ...header, kind: 'status', key: podSync.key, write: { type: 'secret', payload: {} } }, 'write.type'],
    [
      {
        ...header,
        kind: 'streamOpen',
        stream: 's',
        target: { namespace: 'd', pod: 'p' },
        what: { type: 'exec', command: ['sh', 1], stdin: true, stdout: true, stderr: true, tty: false },
        window: 1,
      },
      'what.command[1]',
    ],
    [{ ...header, kind: 'streamData', stream: 's', channel: 5, data: new Uint8Array(1) }, 'channel'],
    [{ ...header, kind: 'streamData', stream: 's', channel: 1, data: 'aGk=' }, 'data'],
    [{ ...header, kind: 'query', method: 'certRotate', params: {} }, 'params.csr'],
    [
      { ...header, kind: 'reply', ref: 'q', method: 'health', result: { verdict: 'Fine', summary: '' } },
      'result.verdict',
    ],
    [{ ...header, kind: 'streamClose', stream: 's', end: { type: 'exit', code: 1.5 } }, 'end.code'],
    [{ ...header, id: '', kind: 'ping' }, 'id'],
    [{ ...header, ts: -5, kind: 'ping' }, 'ts'],
    // binary is allowed only in streamData.data, so a JSON payload can't smuggle it
    [
      { ...header, kind: 'event', name: 'e', payload: { deep: [{ x: new Uint8Array(2) }] } },
      'payload.deep[0].x',
    ],
    [
      {
        ...header,
        kind: 'streamData',
        stream: 's',
        channel: 1,
        data: new Uint8Array(1),
        extra: new Uint8Array(1),
      },
      'extra',
    ],
  ])('protocol — INVALID_FIELD with the field path (%#)', (value, path) => {
    const e = expectError(frame(value), 'INVALID_FIELD');
    expect(e.path).toBe(path);
    expect(e.message).toContain(path);
  });

  it('protocol — ProtocolError has the TetherError shape (protocol may not import common)', () => {
    // structurally a TetherError (instanceof TetherError is false by the dependency rule)
    const e: Pick<TetherError, 'name' | 'code' | 'message' | 'toJSON'> = new ProtocolError('MALFORMED', 'x');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('MALFORMED');
    expect(e.toJSON()).toEqual({ name: 'ProtocolError', code: 'MALFORMED', message: 'x' });
    expect(new ProtocolError('INVALID_FIELD', 'y', 'key.name').toJSON()).toMatchObject({ path: 'key.name' });
  });
});

describe('protocol codec — numbers', () => {
  it('protocol — safe integers round-trip exactly; 64-bit values beyond them are refused', () => {
    const payload = {
      max: Number.MAX_SAFE_INTEGER,
      min: Number.MIN_SAFE_INTEGER,
      big: 2 ** 40,
      neg: -(2 ** 40),
      f: 0.1,
    };
    const r = decode(encode({ ...header, kind: 'event', name: 'n', payload } as unknown as Envelope));
    expect(r.ok && r.value.kind === 'event' && r.value.payload).toEqual(payload);
    // int64 0xffe0000000000000 = −2^53 (one below the safe range) and 0x0020000000000000 = 2^53
    const head = frame({ v: 1, id: 'm', ts: 1, kind: 'event', name: 'e' });
    const withPayload = (num: number[]): Uint8Array =>
      new Uint8Array([
        0x80 | (((head[0] ?? 0) & 0x0f) + 1),
        ...head.subarray(1),
        0xa7,
        ...Buffer.from('payload'),
        0x81,
        0xa1,
        0x6e,
        ...num,
      ]);
    expectError(withPayload([0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 0]), 'MALFORMED');
    expectError(withPayload([0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0]), 'MALFORMED');
    const minSafe = decode(withPayload([0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 1]));
    expect(minSafe.ok && minSafe.value.kind === 'event' && minSafe.value.payload['n']).toBe(
      Number.MIN_SAFE_INTEGER,
    );
    const maxSafe = decode(withPayload([0xcf, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(maxSafe.ok && maxSafe.value.kind === 'event' && maxSafe.value.payload['n']).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });

  it('protocol — version negotiation picks v1 only when offered', () => {
    expect(chooseProtocol([1, 2])).toBe(1);
    expect(chooseProtocol([2, 3])).toBeUndefined();
  });
});

describe('protocol codec — hostile frames', () => {
  const u32 = [0xff, 0xff, 0xff, 0xff];
  it.each([
    ['array32 of 2^32−1 entries', [0xdd, ...u32]],
    ['map32 of 2^32−1 entries', [0xdf, ...u32]],
    ['str32 of 4 GiB', [0xdb, ...u32, 0x61]],
    ['bin32 of 4 GiB', [0xc6, ...u32, 0x00]],
    ['array16 of 65535 entries with 3 present', [0xdc, 0xff, 0xff, 1, 2, 3]],
    ['map in a map claiming 2^32−1 entries', [0x81, 0xa1, 0x78, 0xdf, ...u32, 0xc0]],
    ['str8 longer than the frame', [0x81, 0xa1, 0x76, 0xd9, 0xff, 0x61]],
  ])('protocol — %s is refused without allocating', (_name, bytes) => {
    const before = process.memoryUsage().arrayBuffers;
    const e = expectError(new Uint8Array(bytes), 'MALFORMED');
    expect(e.message).toMatch(/exceeds|truncated/);
    // nothing near the claimed size was allocated (the claim is ≥ 64 KiB entries or 4 GiB)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('protocol — finding: msgpackr 2.1 itself also refuses hostile lengths before allocating', () => {
    // Documented in docs/protocol.md; our scan does not rely on it, this pins the library's behaviour.
    expect(() => {
      unpack(new Uint8Array([0xdd, ...u32]));
    }).toThrow(/end of MessagePack/i);
    expect(() => {
      unpack(new Uint8Array([0xdb, ...u32]));
    }).toThrow(/end of MessagePack/i);
  });

  it('protocol — deep nesting is refused at maxDepth, not by a stack overflow', () => {
    const deep = new Uint8Array(200_000).fill(0x91); // [[[[…
    deep[deep.length - 1] = 0xc0;
    expect(expectError(deep, 'MALFORMED').message).toContain('nesting deeper than 64');
    const ok = frame({ ...header, kind: 'event', name: 'e', payload: { a: { b: { c: {} } } } });
    expect(decode(ok, { maxDepth: 5 }).ok).toBe(true);
    expectError(ok, 'MALFORMED', { ...DEFAULT_LIMITS, maxDepth: 4 });
  });

  it('protocol — a __proto__ key can not change the prototype of a decoded object', () => {
    // fixmap { v:1, id:'m', ts:1, kind:'event', name:'e', payload:{ "__proto__": { polluted: true } } }
    const payload = [0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa8, ...Buffer.from('polluted'), 0xc3];
    const head = frame({ v: 1, id: 'm', ts: 1, kind: 'event', name: 'e' });
    const bytes = new Uint8Array([
      0x80 | (((head[0] ?? 0) & 0x0f) + 1),
      ...head.subarray(1),
      0xa7,
      ...Buffer.from('payload'),
      ...payload,
    ]);
    const r = decode(bytes);
    expect(r.ok).toBe(true);
    if (r.ok && r.value.kind === 'event') {
      expect(Object.getPrototypeOf(r.value.payload)).toBe(Object.prototype);
      expect((r.value.payload as Record<string, unknown>)['polluted']).toBeUndefined();
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
