import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { useTempStores } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/burst-writer.ts', import.meta.url));

/** Runs the burst writer, SIGKILLs it after `killAfter` acks, returns every acked (revision, key). */
async function burstAndKill(
  path: string,
  synchronous: 'FULL' | 'NORMAL',
  killAfter: number,
): Promise<Map<string, number>> {
  // `node --import tsx` rather than `npx tsx`: one process, so the SIGKILL hits the writer
  // itself and not a wrapper that would leave it running.
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, path, synchronous], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked = new Map<string, number>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let buf = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^ack (\d+) (\S+)$/.exec(line);
      if (m !== null) acked.set(m[2]!, Number(m[1]));
      if (acked.size >= killAfter && child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL');
    }
  });
  const result = await exited;
  // Lines already in the pipe when the kill landed still count as acknowledged.
  await new Promise<void>((resolve) => {
    if (child.stdout.readableEnded) resolve();
    else child.stdout.on('end', resolve);
  });
  expect(result.signal, `writer did not die by SIGKILL: ${stderr}`).toBe('SIGKILL');
  return acked;
}

describe('storage durability', () => {
  const t = useTempStores();

  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    it(`storage — every acknowledged write survives SIGKILL of the writer (synchronous=${synchronous})`, async () => {
      const path = join(t.dir(), 'store.db');
      const acked = await burstAndKill(path, synchronous, 300);
      expect(acked.size).toBeGreaterThanOrEqual(300);
      const s = t.open(path);
      expect(s.quickCheck()).toBe('ok');
      let maxAck = 0;
      for (const [key, rev] of acked) {
        expect(s.get(key)?.modRevision, key).toBe(rev);
        maxAck = Math.max(maxAck, rev);
      }
      expect(s.currentRevision()).toBeGreaterThanOrEqual(maxAck);
      // The revision keeps climbing after recovery.
      const next = s.create('/after/restart', { kind: 'ConfigMap' });
      expect(next.ok && next.value.modRevision).toBe(s.currentRevision());
      expect(s.currentRevision()).toBeGreaterThan(maxAck);
    });
  }
});
