/**
 * A bounds-checking pre-scan of one MessagePack frame, run before the library decodes it.
 *
 * Why: the frame comes from the network, so before handing it to msgpackr we prove, in one
 * linear pass with no recursion and O(depth) memory, that
 *  - it is exactly one well-formed value with no trailing bytes;
 *  - every str/bin/array/map length fits in the bytes that remain (an array of n needs ≥ n
 *    bytes, a map ≥ 2n), so no length header can make any decoder allocate more than the
 *    frame size (msgpackr 2.1 also checks this itself — see docs/protocol.md; we don't rely on it);
 *  - nesting is at most `maxDepth` (the decoder recurses; this bounds its stack);
 *  - it uses only the types of the Tether envelope: nil, bool, int, float, str, bin, array and
 *    maps with str keys. Every ext type is refused — msgpackr would otherwise build Dates,
 *    Errors, RegExps, Sets, typed arrays, cyclic structured clones and record definitions
 *    from a hostile frame; floats must be finite and 64-bit ints safe integers.
 * It also counts `bin` values, so validation can check that binary appears only where the
 * schema allows it (streamData.data) without walking JSON payloads.
 */

export interface ScanOk {
  readonly ok: true;
  /** Number of `bin` values in the frame. */
  readonly bins: number;
}
export interface ScanFail {
  readonly ok: false;
  readonly offset: number;
  readonly reason: string;
}
export type ScanResult = ScanOk | ScanFail;

const fail = (offset: number, reason: string): ScanFail => ({ ok: false, offset, reason });

/** MessagePack tokens (https://github.com/msgpack/msgpack/blob/master/spec.md). */
const NIL = 0xc0,
  NEVER_USED = 0xc1,
  FALSE = 0xc2,
  TRUE = 0xc3,
  BIN8 = 0xc4,
  BIN16 = 0xc5,
  BIN32 = 0xc6,
  EXT8 = 0xc7,
  EXT32 = 0xc9,
  FLOAT32 = 0xca,
  FLOAT64 = 0xcb,
  UINT8 = 0xcc,
  UINT16 = 0xcd,
  UINT32 = 0xce,
  UINT64 = 0xcf,
  INT8 = 0xd0,
  INT16 = 0xd1,
  INT32 = 0xd2,
  INT64 = 0xd3,
  FIXEXT1 = 0xd4,
  FIXEXT16 = 0xd8,
  STR8 = 0xd9,
  STR16 = 0xda,
  STR32 = 0xdb,
  ARRAY16 = 0xdc,
  ARRAY32 = 0xdd,
  MAP16 = 0xde,
  MAP32 = 0xdf;

const MAX_SAFE_HI = 0x1fffff; // high 32 bits of Number.MAX_SAFE_INTEGER (2^53 − 1)

/**
 * Scans `buf` as one MessagePack value. `maxDepth` counts containers: a flat map has depth 1.
 * Never throws for any input (all reads are bounds-checked first).
 */
export function scanFrame(buf: Uint8Array, maxDepth: number): ScanResult {
  const end = buf.length;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // remaining[d] = items still expected in the container at depth d (a map of n counts 2n);
  // isMap[d] tells whether the next item there is a key (when the remaining count is even).
  const remaining: number[] = [];
  const isMap: boolean[] = [];
  let depth = 0;
  let pos = 0;
  let bins = 0;
  let done = false;

  while (!done) {
    if (pos >= end) return fail(pos, 'truncated frame');
    const at = pos;
    const t = buf[pos++] ?? 0;
    const keyExpected = depth > 0 && isMap[depth - 1] === true && (remaining[depth - 1] ?? 0) % 2 === 0;
    let open = -1; // entries of a container opened by this token (maps: 2 × n)
    let mapOpen = false;
    let skip = 0; // payload bytes to skip after the header
    let isStr = false;

    if (t <= 0x7f || t >= 0xe0) {
      // positive/negative fixint
    } else if (t <= 0x8f) {
      open = (t & 0x0f) * 2;
      mapOpen = true;
    } else if (t <= 0x9f) {
      open = t & 0x0f;
    } else if (t <= 0xbf) {
      skip = t & 0x1f;
      isStr = true;
    } else {
      switch (t) {
        case NIL:
        case FALSE:
        case TRUE:
          break;
        case NEVER_USED:
          return fail(at, 'reserved token 0xc1');
        case BIN8:
        case BIN16:
        case BIN32: {
          const n = t === BIN8 ? 1 : t === BIN16 ? 2 : 4;
          if (end - pos < n) return fail(at, 'truncated bin header');
          skip = n === 1 ? (buf[pos] ?? 0) : n === 2 ? view.getUint16(pos) : view.getUint32(pos);
          pos += n;
          bins++;
          break;
        }
        case FLOAT32:
          if (end - pos < 4) return fail(at, 'truncated float32');
          if (!Number.isFinite(view.getFloat32(pos))) return fail(at, 'non-finite float');
          pos += 4;
          break;
        case FLOAT64:
          if (end - pos < 8) return fail(at, 'truncated float64');
          if (!Number.isFinite(view.getFloat64(pos))) return fail(at, 'non-finite float');
          pos += 8;
          break;
        case UINT8:
        case INT8:
          skip = 1;
          break;
        case UINT16:
        case INT16:
          skip = 2;
          break;
        case UINT32:
        case INT32:
          skip = 4;
          break;
        case UINT64:
        case INT64: {
          if (end - pos < 8) return fail(at, 'truncated int64');
          const hi = view.getUint32(pos);
          // unsigned: hi ≤ MAX_SAFE_HI; signed: also allow negatives down to −(2^53 − 1)
          const safe =
            hi <= MAX_SAFE_HI ||
            (t === INT64 && hi >= 0xffe00000 && !(hi === 0xffe00000 && view.getUint32(pos + 4) === 0));
          if (!safe) return fail(at, '64-bit integer outside the safe range');
          pos += 8;
          break;
        }
        case STR8:
        case STR16:
        case STR32: {
          const n = t === STR8 ? 1 : t === STR16 ? 2 : 4;
          if (end - pos < n) return fail(at, 'truncated str header');
          skip = n === 1 ? (buf[pos] ?? 0) : n === 2 ? view.getUint16(pos) : view.getUint32(pos);
          pos += n;
          isStr = true;
          break;
        }
        case ARRAY16:
        case ARRAY32:
        case MAP16:
        case MAP32: {
          const n = t === ARRAY16 || t === MAP16 ? 2 : 4;
          if (end - pos < n) return fail(at, 'truncated container header');
          const count = n === 2 ? view.getUint16(pos) : view.getUint32(pos);
          pos += n;
          mapOpen = t === MAP16 || t === MAP32;
          open = mapOpen ? count * 2 : count;
          break;
        }
        default:
          // EXT8..EXT32 (0xc7–0xc9) and FIXEXT1..FIXEXT16 (0xd4–0xd8)
          if ((t >= EXT8 && t <= EXT32) || (t >= FIXEXT1 && t <= FIXEXT16))
            return fail(at, `extension type not allowed (token 0x${t.toString(16)})`);
          return fail(at, `unknown token 0x${t.toString(16)}`);
      }
    }

    if (keyExpected && !isStr) return fail(at, 'map key is not a string');
    if (skip > end - pos) return fail(at, `length ${skip} exceeds the ${end - pos} bytes left`);
    pos += skip;

    if (open > 0) {
      // each entry needs at least one byte: a header claiming more can't be honest
      if (open > end - pos)
        return fail(at, `container of ${open} entries exceeds the ${end - pos} bytes left`);
      if (depth >= maxDepth) return fail(at, `nesting deeper than ${maxDepth}`);
      remaining[depth] = open;
      isMap[depth] = mapOpen;
      depth++;
      continue;
    }
    if (open === 0 && depth >= maxDepth) return fail(at, `nesting deeper than ${maxDepth}`);

    // one value complete: count it against its container(s)
    for (;;) {
      if (depth === 0) {
        done = true;
        break;
      }
      const r = (remaining[depth - 1] ?? 1) - 1;
      remaining[depth - 1] = r;
      if (r > 0) break;
      depth--;
    }
  }
  if (pos !== end) return fail(pos, `${end - pos} trailing bytes after the value`);
  return { ok: true, bins };
}
