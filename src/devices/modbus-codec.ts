import type { ModbusVisitor } from './types.js';

/** How many 16-bit registers (or bits) a visitor reads. */
export function registerCount(v: Pick<ModbusVisitor, 'register' | 'dataType'>): number {
  if (v.register === 'Coil' || v.register === 'DiscreteInput') return 1;
  return v.dataType === 'int32' || v.dataType === 'uint32' || v.dataType === 'float32' ? 2 : 1;
}

function swapBytes(w: number): number {
  return ((w & 0xff) << 8) | ((w >> 8) & 0xff);
}

/** The 4 (or 2) bytes of the value in big-endian order, from registers as read off the wire. */
function toBigEndianBytes(words: readonly number[], v: ModbusVisitor): Buffer {
  const ws = words.map((w) => (v.byteOrder === 'LittleEndian' ? swapBytes(w & 0xffff) : w & 0xffff));
  if (ws.length === 2 && v.wordOrder === 'LittleEndian') ws.reverse();
  const b = Buffer.alloc(ws.length * 2);
  ws.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/**
 * Registers → engineering value: raw × scale + offset. Modbus sends registers big-endian
 * (Modbus Application Protocol v1.1b3 §4.2); devices differ in byte order inside a register
 * and in word order of 32-bit values, hence byteOrder/wordOrder.
 */
export function decodeRegisters(words: readonly number[], v: ModbusVisitor): number {
  const b = toBigEndianBytes(words, v);
  let raw: number;
  switch (v.dataType) {
    case 'int16':
      raw = b.readInt16BE(0);
      break;
    case 'uint16':
      raw = b.readUInt16BE(0);
      break;
    case 'boolean':
      raw = b.readUInt16BE(0) === 0 ? 0 : 1;
      break;
    case 'int32':
      raw = b.readInt32BE(0);
      break;
    case 'uint32':
      raw = b.readUInt32BE(0);
      break;
    case 'float32':
      raw = b.readFloatBE(0);
      break;
  }
  return raw * v.scale + v.offset;
}

export type EncodeResult = { ok: true; words: number[] } | { ok: false; reason: string };

const RANGES = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  boolean: [0, 1],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
} as const;

/** Engineering value → registers to write (inverse of decodeRegisters). */
export function encodeRegisters(value: number, v: ModbusVisitor): EncodeResult {
  if (v.scale === 0) return { ok: false, reason: 'scale 0 cannot be inverted' };
  const rawF = (value - v.offset) / v.scale;
  const n = registerCount(v);
  const b = Buffer.alloc(n * 2);
  if (v.dataType === 'float32') {
    if (!Number.isFinite(rawF)) return { ok: false, reason: `${String(value)} is not finite` };
    b.writeFloatBE(rawF, 0);
  } else {
    const raw = Math.round(rawF);
    const [lo, hi] = RANGES[v.dataType];
    if (raw < lo || raw > hi)
      return {
        ok: false,
        reason: `${String(value)} gives raw ${String(raw)}, outside ${v.dataType} [${String(lo)}, ${String(hi)}]`,
      };
    switch (v.dataType) {
      case 'int16':
        b.writeInt16BE(raw, 0);
        break;
      case 'uint16':
      case 'boolean':
        b.writeUInt16BE(raw, 0);
        break;
      case 'int32':
        b.writeInt32BE(raw, 0);
        break;
      case 'uint32':
        b.writeUInt32BE(raw, 0);
        break;
    }
  }
  const words: number[] = [];
  for (let i = 0; i < n; i++) words.push(b.readUInt16BE(i * 2));
  if (n === 2 && v.wordOrder === 'LittleEndian') words.reverse();
  return { ok: true, words: v.byteOrder === 'LittleEndian' ? words.map(swapBytes) : words };
}
