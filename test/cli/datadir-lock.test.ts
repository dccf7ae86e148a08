import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/cli/datadir-lock.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-lock-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('edge data-dir lock', () => {
  it('data-dir lock — a live agent owning the directory is refused with a sentence naming its pid', async () => {
    const dir = tempDir();
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = other.pid ?? 0;
      expect(pid).toBeGreaterThan(0);
      writeFileSync(join(dir, LOCK_FILE), String(pid));
      expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
      expect(() => lockDataDir(dir)).toThrow(`another tether edge (pid ${String(pid)}) is using ${dir}`);
      expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(String(pid));
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
  });

  it('data-dir lock — the pid file of a SIGKILLed agent is taken over, and release removes only our own', async () => {
    const dir = tempDir();
    const dead = spawn('true', [], { stdio: 'ignore' });
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(join(dir, LOCK_FILE), String(dead.pid ?? 999_999));
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

    const again = lockDataDir(dir);
    writeFileSync(join(dir, LOCK_FILE), '12345678'); // someone else's now
    again();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('12345678');
  });

  it('data-dir lock — a SIGKILLed agent not yet reaped (a zombie) does not hold the directory', async () => {
    const dir = tempDir();
    // the shell execs sleep, which never waits: the killed background child stays a zombie
    const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 5'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const pid = await new Promise<number>((resolve) => {
        parent.stdout.once('data', (b: Buffer) => {
          resolve(Number.parseInt(b.toString().trim(), 10));
        });
      });
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100; i++) {
        if (readFileSync(`/proc/${String(pid)}/stat`, 'utf8').includes(') Z ')) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(readFileSync(`/proc/${String(pid)}/stat`, 'utf8')).toContain(') Z ');
      writeFileSync(join(dir, LOCK_FILE), String(pid));
      lockDataDir(dir)();
    } finally {
      parent.kill('SIGKILL');
      await new Promise((r) => parent.once('exit', r));
    }
  });

  it('data-dir lock — a garbage pid file does not block the agent', () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_FILE), 'not a pid\n');
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(String(process.pid));
    release();
  });
});
