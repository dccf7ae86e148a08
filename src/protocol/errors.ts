/**
 * Errors and results of the protocol layer.
 *
 * DESIGN §1: `protocol` imports nothing of ours (the lint rule and test/lint prove it), so it
 * cannot extend `common`'s TetherError class. `ProtocolError` is shaped exactly like a
 * TetherError (stable `code`, `name`, `cause`, `toJSON`) and is therefore assignable to the
 * `TetherError` type by structure; only `instanceof TetherError` is false. Match on `code`.
 */

/** Stable codes of every decode/validation failure. */
export const PROTOCOL_ERROR_CODES = [
  'FRAME_TOO_LARGE',
  'MALFORMED',
  'UNSUPPORTED_VERSION',
  'UNKNOWN_KIND',
  'INVALID_FIELD',
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export class ProtocolError extends Error {
  /**
   * @param code   stable machine-readable code
   * @param path   for INVALID_FIELD: the field path inside the envelope (e.g. `key.name`,
   *               `what.command[2]`); '' otherwise
   */
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    readonly path = '',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProtocolError';
  }

  toJSON(): { name: string; code: string; message: string; path?: string } {
    const base = { name: this.name, code: this.code, message: this.message };
    return this.path === '' ? base : { ...base, path: this.path };
  }
}

/** Same shape as `common`'s Result, so values pass between the layers unchanged. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };
export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** Exhaustiveness guard (protocol's own copy; see the note at the top). */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
