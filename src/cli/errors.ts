import { ConfigError, errorMessage, TetherError } from '../common/index.js';
import { EXIT, type ExitCode } from './exit.js';

/** The Kubernetes API (a kubeconfig's server) did not answer. */
export class KubeUnreachableError extends TetherError {
  readonly code = 'KUBE_UNREACHABLE';
}

/** The Kubernetes API refused our credentials. */
export class KubeRefusedError extends TetherError {
  readonly code = 'KUBE_REFUSED';
}

const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** Walks `cause` links for a network error code (node-fetch, undici and net put it at different depths). */
function netCode(e: unknown): string | undefined {
  for (let c: unknown = e, i = 0; c !== undefined && c !== null && i < 5; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && NET_CODES.has(code)) return code;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

/** host:port of a failed connection, when the error says. */
function netAddress(e: unknown): string | undefined {
  for (let c: unknown = e, i = 0; c !== undefined && c !== null && i < 5; i++) {
    const { address, port } = c as { address?: unknown; port?: unknown };
    if (typeof address === 'string') return typeof port === 'number' ? `${address}:${port}` : address;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns a failed Kubernetes API call into one sentence that says what to do (issue 11), or
 * returns the error unchanged when it is something else.
 */
export function kubeApiUnreachable(e: unknown, server: string | undefined): unknown {
  const at = server ?? netAddress(e) ?? '(the kubeconfig server)';
  const code = netCode(e);
  if (code !== undefined)
    return new KubeUnreachableError(
      `cannot reach the Kubernetes API at ${at} (${code}): start it (\`sudo tether up\`) or point --kubeconfig / $KUBECONFIG at a running cluster`,
      { cause: e },
    );
  const status = (e as { code?: unknown }).code;
  if (status === 401 || status === 403)
    return new KubeRefusedError(
      `the Kubernetes API at ${at} refused our credentials (HTTP ${String(status)}): use an admin kubeconfig (--kubeconfig)`,
      { cause: e },
    );
  return e;
}

/** Exit code for an error that reached main (docs/operations.md "Exit codes"). */
export function exitCodeFor(e: unknown): ExitCode {
  if (e instanceof ConfigError) return EXIT.usage;
  if (e instanceof KubeUnreachableError) return EXIT.unreachable;
  if (e instanceof KubeRefusedError) return EXIT.refused;
  if (e instanceof TetherError) {
    // JoinError (edge/bootstrap): UNREACHABLE, REFUSED, CA_PIN_MISMATCH…
    if (e.code === 'UNREACHABLE') return EXIT.unreachable;
    if (e.code === 'REFUSED' || e.code === 'CA_PIN_MISMATCH' || e.code === 'CA_NOT_SENT') return EXIT.refused;
    if (e.code === 'BAD_ARGUMENT') return EXIT.usage;
  }
  if (netCode(e) !== undefined) return EXIT.unreachable;
  return EXIT.error;
}

/** What to do next, for failures whose message says only what happened (issue 11: one sentence that says what to do). */
function hint(e: unknown): string {
  if (!(e instanceof TetherError)) return '';
  const status = (e as { status?: unknown }).status;
  switch (e.code) {
    case 'UNREACHABLE':
      return ' — check --cloud, that `tether cloud` runs there and that its hub port is open from this host';
    case 'REFUSED':
      return status === 401 || status === 403
        ? ' — create a new token on the cloud (`tether token create`) and run the join command it prints'
        : '';
    default:
      return '';
  }
}

/** The one line main prints for an error. */
export function errorLine(e: unknown): string {
  return `tether: ${errorMessage(e)}${hint(e)}`;
}
