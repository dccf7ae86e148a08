import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TetherError } from '../common/index.js';

export const LOCK_FILE = 'edge.pid';

export class DataDirLockedError extends TetherError {
  readonly code = 'DATA_DIR_LOCKED';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else — still a live owner.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed agent not yet reaped by its parent is a zombie: dead for our purpose (proc(5) stat state Z).
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * One agent per data directory: two agents on one store would both run the node's pods and hand
 * out the same store revisions. A pid file, created exclusively; a file left by a SIGKILLed agent
 * (its pid no longer alive) is taken over. The same process may take it again (in-process restarts
 * in tests). Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, LOCK_FILE);
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx', mode: 0o644 });
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === mine) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    } catch {
      // vanished between the two calls: retry
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner))
      throw new DataDirLockedError(
        `another tether edge (pid ${String(owner)}) is using ${dataDir}; stop it first, or give this one another dataDir`,
      );
    rmSync(file, { force: true });
  }
  throw new DataDirLockedError(`could not lock ${dataDir}: ${file} keeps reappearing`);
}
