/**
 * Base of every error Tether raises on purpose. Each subclass has a stable `code` that
 * callers and tests match on — never the message text (STYLE §11).
 */
export abstract class TetherError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  toJSON(): { name: string; code: string; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Configuration that failed validation; `issues` lists each problem with its path. */
export class ConfigError extends TetherError {
  readonly code = 'CONFIG_INVALID';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A component was used outside its lifecycle (before start or after stop). */
export class LifecycleError extends TetherError {
  readonly code = 'LIFECYCLE';
}

/** The result type for expected failures: values, not exceptions (STYLE §11). */
export type Result<T, E = TetherError> = { ok: true; value: T } | { ok: false; error: E };
export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** Message of an unknown thrown value, for logs. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : JSON.stringify(e);
}
