/**
 * Codec benchmark (docs/benchmarks.md § Codec): MessagePack (msgpackr, the chosen codec) vs
 * CBOR (cborg; cbor-x was measured first, see docs/protocol.md) vs JSON on typical Tether messages — encode/decode msgs/s and bytes — plus the
 * cost of what `decode` adds on the hot path (pre-scan + validation) and hand-written
 * validators vs zod 4.
 *
 *   npx tsx bench/codec.ts            # ~1 s per measurement
 *   BENCH_MS=300 BENCH_ROUNDS=5 npx tsx bench/codec.ts   # shorter runs, more rounds (best round counts)
 *
 * Prints one JSON document on stdout, then a human table.
 */
import os from 'node:os';
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { Packr, Unpackr, type Options } from 'msgpackr';
import { z } from 'zod';
import { decode, encode, type Envelope } from '../src/protocol/index.js';
import { scanFrame } from '../src/protocol/scan.js';
import { validateEnvelope } from '../src/protocol/validate.js';
import { podStatus, podSync, streamDataFrame, syncAck } from '../test/protocol/samples.js';

const MS = Number(process.env['BENCH_MS'] ?? 1000);

/** msgs/s of `fn`, after a warm-up, measured over ~MS milliseconds. */
function rate(fn: () => unknown): number {
  let sink: unknown;
  const until = (ms: number): number => {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while ((t = performance.now()) - t0 < ms) {
      for (let i = 0; i < 50; i++) sink = fn();
      n += 50;
    }
    return n / ((t - t0) / 1000);
  };
  until(Math.min(300, MS / 3));
  const r = until(MS);
  if (sink === Symbol.for('never')) console.log('');
  return Math.round(r);
}

interface Codec {
  readonly name: string;
  enc(v: unknown): Uint8Array;
  dec(b: Uint8Array): unknown;
}

// The same options as src/protocol/codec.ts.
const packOptions: Options & { skipValues: readonly unknown[] } = {
  useRecords: false,
  variableMapSize: true,
  skipValues: [undefined],
};
const packr = new Packr(packOptions);
// The same without skipValues: what JSON semantics for `undefined` cost on encode.
const packrNoSkip = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  structuredClone: false,
});
const te = new TextEncoder();
const td = new TextDecoder();
// JSON can't carry bytes: base64 them (what a JSON protocol would have to do).
const jsonReplacer = (_k: string, v: unknown): unknown =>
  v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;

const codecs: readonly Codec[] = [
  { name: 'msgpack (msgpackr)', enc: (v) => packr.pack(v), dec: (b): unknown => unpackr.unpack(b) },
  { name: 'msgpack, no skipValues', enc: (v) => packrNoSkip.pack(v), dec: (b): unknown => unpackr.unpack(b) },
  { name: 'cbor (cborg)', enc: (v) => cborEncode(v), dec: (b): unknown => cborDecode(b) },
  {
    name: 'json',
    enc: (v) => te.encode(JSON.stringify(v, jsonReplacer)),
    dec: (b) => JSON.parse(td.decode(b)) as unknown,
  },
];

const messages: Record<string, Envelope> = {
  'pod sync (upsert)': podSync,
  'pod status': podStatus,
  ack: syncAck,
  'stream data 32 KiB': streamDataFrame(32 * 1024),
};

// zod 4 schemas for the four measured kinds, equivalent to the hand-written checks.
const zKey = z.object({
  group: z.string().max(253),
  version: z.string().min(1).max(253),
  kind: z.string().min(1).max(253),
  namespace: z.string().max(253).optional(),
  name: z.string().min(1).max(253),
});
const zId = z.string().min(1).max(128);
const zHead = { v: z.literal(1), id: zId, ts: z.int().min(0) };
const zJsonObject = z.record(z.string(), z.unknown());
const zEnvelope = z.discriminatedUnion('kind', [
  z.object({
    ...zHead,
    kind: z.literal('sync'),
    seq: z.int().min(0),
    op: z.literal('upsert'),
    key: zKey,
    uid: zId,
    resourceVersion: zId,
    object: zJsonObject,
  }),
  z.object({
    ...zHead,
    kind: z.literal('status'),
    key: zKey,
    uid: zId.optional(),
    write: z.object({
      type: z.enum(['podStatus', 'nodeStatus', 'lease', 'event', 'deviceStatus']),
      payload: zJsonObject,
    }),
  }),
  z.object({ ...zHead, kind: z.literal('ack'), of: z.literal('sync'), seq: z.int().min(0) }),
  z.object({
    ...zHead,
    kind: z.literal('streamData'),
    stream: zId,
    channel: z.int().min(0).max(4),
    data: z.instanceof(Uint8Array),
  }),
]);

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

/**
 * Every measurement runs once per round, rounds interleaved, and the best round counts: the
 * machine is shared, so the best of several short runs is the least disturbed estimate.
 */
const tasks: { id: string; fn: () => unknown }[] = [];
const best = new Map<string, number>();
const task = (id: string, fn: () => unknown): string => {
  tasks.push({ id, fn });
  return id;
};

interface Row {
  message: string;
  codec: string;
  bytes: number;
  encodePerSec: string;
  decodePerSec: string;
}
const rows: Row[] = [];
const pipelineIds: Record<string, string>[] = [];

for (const [message, env] of Object.entries(messages)) {
  for (const c of codecs) {
    const bytes = c.enc(env);
    rows.push({
      message,
      codec: c.name,
      bytes: bytes.length,
      encodePerSec: task(`${message}/${c.name}/encode`, () => c.enc(env)),
      decodePerSec: task(`${message}/${c.name}/decode`, () => c.dec(bytes)),
    });
  }
  const frame = Uint8Array.from(encode(env));
  const decoded = unpackr.unpack(frame) as unknown;
  if (!decode(frame).ok || !zEnvelope.safeParse(decoded).success)
    throw new Error(`sample ${message} does not validate`);
  const bins = message.startsWith('stream') ? 1 : 0;
  pipelineIds.push({
    message,
    rawUnpackPerSec: task(`${message}/unpack`, () => unpackr.unpack(frame)),
    scanPerSec: task(`${message}/scan`, () => scanFrame(frame, 64)),
    decodeWithScanAndValidationPerSec: task(`${message}/decode()`, () => decode(frame)),
    validateHandWrittenPerSec: task(`${message}/validate`, () => validateEnvelope(decoded, bins)),
    validateZodPerSec: task(`${message}/zod`, () => zEnvelope.safeParse(decoded)),
  });
}

for (let round = 0; round < ROUNDS; round++)
  for (const t of tasks) best.set(t.id, Math.max(best.get(t.id) ?? 0, rate(t.fn)));
const get = (id: string): number => best.get(id) ?? 0;

const codecRows = rows.map((r) => ({
  ...r,
  encodePerSec: get(r.encodePerSec),
  decodePerSec: get(r.decodePerSec),
}));
const pipeline = pipelineIds.map((p) => ({
  message: p['message'] ?? '',
  rawUnpackPerSec: get(p['rawUnpackPerSec'] ?? ''),
  scanPerSec: get(p['scanPerSec'] ?? ''),
  decodeWithScanAndValidationPerSec: get(p['decodeWithScanAndValidationPerSec'] ?? ''),
  validateHandWrittenPerSec: get(p['validateHandWrittenPerSec'] ?? ''),
  validateZodPerSec: get(p['validateZodPerSec'] ?? ''),
}));

const result = {
  date: new Date().toISOString(),
  node: process.version,
  msPerMeasurement: MS,
  rounds: ROUNDS,
  loadAverage: os.loadavg(),
  codecs: codecRows,
  decodePipeline: pipeline,
};
console.log(JSON.stringify(result, null, 2));

const fmt = (n: number): string => n.toLocaleString('en-US');
const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);
console.log('\nCodec comparison (msgs/s, higher is better; bytes, lower is better)');
console.log(
  `${pad('message', 20)} ${pad('codec', 24)} ${lpad('bytes', 8)} ${lpad('encode/s', 12)} ${lpad('decode/s', 12)}`,
);
for (const r of codecRows)
  console.log(
    `${pad(r.message, 20)} ${pad(r.codec, 24)} ${lpad(fmt(r.bytes), 8)} ${lpad(fmt(r.encodePerSec), 12)} ${lpad(fmt(r.decodePerSec), 12)}`,
  );
console.log('\nDecode pipeline of the chosen codec (msgs/s)');
console.log(
  `${pad('message', 20)} ${lpad('unpack only', 12)} ${lpad('scan only', 12)} ${lpad('decode()', 12)} ${lpad('validate', 12)} ${lpad('zod', 12)}`,
);
for (const p of pipeline)
  console.log(
    `${pad(p.message, 20)} ${lpad(fmt(p.rawUnpackPerSec), 12)} ${lpad(fmt(p.scanPerSec), 12)} ${lpad(fmt(p.decodeWithScanAndValidationPerSec), 12)} ${lpad(fmt(p.validateHandWrittenPerSec), 12)} ${lpad(fmt(p.validateZodPerSec), 12)}`,
  );
