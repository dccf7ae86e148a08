/**
 * A containerd of a test's own (STACK.md: own root, state, socket and runc root; ~0.2 s to
 * start), derived from the shared test config, so a test can stop or SIGKILL its runtime
 * without disturbing every other test using the shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const SHARED_CONFIG = '/etc/tether-test/containerd.toml';

export class OwnContainerd {
  readonly socket: string;
  private child: ChildProcess | undefined;

  constructor(private readonly dir: string) {
    this.socket = path.join(dir, 'state', 'containerd.sock');
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Writes the config (first call) and starts containerd; resolves when its socket exists. */
  async start(): Promise<void> {
    const config = path.join(this.dir, 'containerd.toml');
    if (!existsSync(config)) {
      const shared = await readFile(SHARED_CONFIG, 'utf8');
      await writeFile(
        config,
        shared
          .replaceAll('/var/lib/tether-test/containerd', path.join(this.dir, 'root'))
          .replaceAll('/run/tether-test/containerd', path.join(this.dir, 'state'))
          .replaceAll('/run/tether-test/runc', path.join(this.dir, 'runc')),
      );
    }
    this.child = spawn('containerd', ['--config', config], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    while (!existsSync(this.socket)) {
      if (Date.now() > deadline) throw new Error(`containerd socket ${this.socket} did not appear in 20 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
    this.child = undefined;
  }
}
