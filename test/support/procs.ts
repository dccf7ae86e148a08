/** Child processes of the real `tether` binary for fault tests (SIGKILL must hit the real process). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './controlplane.js';

export interface Proc {
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `tether <args>` as one node process (no npx/tsx wrapper between us and it). */
export function tether(args: readonly string[], env: Record<string, string> = {}, netns?: string): Proc {
  // `ip netns exec` execs the command in place, so the child's pid is still the node process
  const argv = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args];
  const [cmd, ...rest] = netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv];
  const child = spawn(cmd ?? process.execPath, rest, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    kill: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => {
          resolve();
        });
        child.kill(signal);
      }),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => {
        resolve(port);
      });
    });
    s.on('error', reject);
  });
}
