import { Packr, Unpackr, type Options } from 'msgpackr';
import { err, ProtocolError, type Result } from './errors.js';
import type { Envelope } from './envelope.js';
import { scanFrame } from './scan.js';
import { validateEnvelope } from './validate.js';

/**
 * The binary codec: MessagePack via msgpackr (the choice and its numbers: docs/protocol.md).
 * One frame = one envelope = one MessagePack map; frames are self-contained (no shared
 * record structures), so either side can restart and any frame can be decoded on its own.
 */

export interface DecodeLimits {
  /** Frames larger than this are refused before any decoding. Default 4 MiB. */
  readonly maxFrameBytes: number;
  /** Maximum container nesting (the envelope itself is depth 1). Default 64. */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: DecodeLimits = Object.freeze({ maxFrameBytes: 4 * 1024 * 1024, maxDepth: 64 });

// useRecords: false — plain maps, no shared structures between frames (self-contained frames).
// variableMapSize — smallest map headers (a fixmap for < 16 keys).
// skipValues [undefined] — JSON semantics for objects that carry `undefined` properties (the
//   Kubernetes client's model objects do); msgpackr would otherwise write them as ext 0,
//   which the decoder refuses.
// (skipValues exists in msgpackr 2.1 but not in its Options type, hence the typed variable.)
const packOptions: Options & { skipValues: readonly unknown[] } = {
  useRecords: false,
  variableMapSize: true,
  skipValues: [undefined],
};
const packr = new Packr(packOptions);

// int64AsType 'number': the scan already refused 64-bit ints outside the safe range.
// mapsAsObjects: maps become plain objects; msgpackr renames a '__proto__' key to '__proto_'.
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  structuredClone: false,
});

/**
 * Encodes one envelope. The result may share its ArrayBuffer with other frames from the same
 * encoder; `slice()` it if it is kept for long. The caller checks the size against the peer's
 * `maxFrameBytes` (welcome.settings) before sending.
 */
export function encode(env: Envelope): Uint8Array {
  return packr.pack(env);
}

/**
 * Decodes and validates one frame. Never throws, and never lets a frame make the decoder
 * allocate more than O(frame size): the size limit is checked first, then `scanFrame` proves
 * every length header and the nesting depth before msgpackr runs.
 */
export function decode(
  bytes: Uint8Array,
  limits: Partial<DecodeLimits> = DEFAULT_LIMITS,
): Result<Envelope, ProtocolError> {
  try {
    const maxFrameBytes = limits.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes;
    const maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxDepth;
    if (!(bytes instanceof Uint8Array)) return err(new ProtocolError('MALFORMED', 'frame is not binary'));
    if (bytes.byteLength > maxFrameBytes)
      return err(
        new ProtocolError(
          'FRAME_TOO_LARGE',
          `frame of ${bytes.byteLength} bytes exceeds the limit of ${maxFrameBytes}`,
        ),
      );
    const scan = scanFrame(bytes, maxDepth);
    if (!scan.ok) return err(new ProtocolError('MALFORMED', `byte ${scan.offset}: ${scan.reason}`));
    let value: unknown;
    try {
      value = unpackr.unpack(bytes);
    } catch (e) {
      return err(
        new ProtocolError('MALFORMED', `not decodable: ${e instanceof Error ? e.message : String(e)}`, '', {
          cause: e,
        }),
      );
    }
    return validateEnvelope(value, scan.bins);
  } catch (e) {
    // Unreachable by design (the scan and validators are total); kept so decode never throws.
    return err(
      new ProtocolError('MALFORMED', `decoder failure: ${e instanceof Error ? e.message : String(e)}`, '', {
        cause: e,
      }),
    );
  }
}
