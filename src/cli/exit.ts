/**
 * Exit codes of every `tether` command — scripts rely on them (docs/operations.md "Exit codes").
 * `as const` and never renumbered: a new failure class gets a new number.
 */
export const EXIT = {
  ok: 0,
  /** the operation failed (message on stderr) */
  error: 1,
  /** wrong flags or arguments, or an invalid configuration file */
  usage: 2,
  /** `tether status`: some edge node is offline or not Healthy */
  degraded: 3,
  /** the cloud hub or the Kubernetes API could not be reached */
  unreachable: 4,
  /** refused: expired, unknown or revoked token; credentials not accepted */
  refused: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
