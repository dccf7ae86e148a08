/**
 * Storage benchmark: `npx tsx bench/storage.ts` (env BENCH_N scales the write counts).
 * Prints one JSON document, then a human summary. Figures, not assertions (STYLE, DESIGN §9).
 *
 * - creates/s and updates/s with synchronous FULL (the default) and NORMAL
 * - list of 10,000 objects: all at once, in pages of 500, and at an old revision; compaction
 * - watch fan-out: time from the start of a write until all 100 watchers have the event
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';

import { SqliteStorage, type JsonObject } from '../src/apiserver/storage/index.js';

const N = Number(process.env['BENCH_N'] ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'tether-bench-storage-'));

function pod(i: number, gen = 0): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace: 'default',
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      labels: { app: 'bench', tier: 'edge', 'tether.io/node': `edge-${i % 50}` },
      annotations: { generation: String(gen) },
    },
    spec: {
      nodeName: `edge-${i % 50}`,
      containers: [
        {
          name: 'main',
          image: 'localhost:5000/tether/shell:1',
          command: ['sh', '-c', 'while true; do sleep 3600; done'],
          env: Array.from({ length: 8 }, (_, k) => ({ name: `VAR_${k}`, value: `value-${k}-${i}` })),
          resources: { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '10m', memory: '16Mi' } },
        },
      ],
    },
    status: { phase: 'Running', podIP: `10.42.${(i >> 8) & 255}.${i & 255}` },
  };
}

const key = (i: number): string => `/registry/core/pods/default/pod-${String(i).padStart(6, '0')}`;

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function writes(sync: 'FULL' | 'NORMAL'): { createsPerSec: number; updatesPerSec: number; dbBytes: number } {
  const s = SqliteStorage.open(join(dir, `writes-${sync}.db`), { synchronous: sync });
  let t0 = performance.now();
  for (let i = 0; i < N; i++) if (!s.create(key(i), pod(i)).ok) throw new Error('create failed');
  const createMs = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < N; i++) if (!s.update(key(i), pod(i, 1)).ok) throw new Error('update failed');
  const updateMs = performance.now() - t0;
  const dbBytes = s.dbSizeBytes();
  s.close();
  return { createsPerSec: rate(N, createMs), updatesPerSec: rate(N, updateMs), dbBytes };
}

function lists(): {
  count: number;
  listAllMs: number;
  listPagedMs: number;
  pages: number;
  listOldRevisionMs: number;
  compactRevisions: number;
  compactMs: number;
} {
  const count = 10_000;
  const s = SqliteStorage.open(join(dir, 'list.db'), { synchronous: 'NORMAL' });
  for (let i = 0; i < count; i++) s.create(key(i), pod(i));
  const old = s.currentRevision();
  // Some history after the snapshot, so the old-revision read has versions to skip.
  for (let i = 0; i < count; i += 4) s.update(key(i), pod(i, 1));
  const prefix = '/registry/core/pods/default/';
  s.list(prefix); // warm the statement cache and page cache
  let t0 = performance.now();
  const all = s.list(prefix);
  const listAllMs = performance.now() - t0;
  if (!all.ok || all.value.items.length !== count) throw new Error('list failed');
  t0 = performance.now();
  let pages = 0;
  let cont: string | undefined;
  do {
    const r = s.list(prefix, cont === undefined ? { limit: 500 } : { limit: 500, continue: cont });
    if (!r.ok) throw new Error('page failed');
    cont = r.value.continue;
    pages++;
  } while (cont !== undefined);
  const listPagedMs = performance.now() - t0;
  t0 = performance.now();
  const atOld = s.list(prefix, { revision: old });
  const listOldRevisionMs = performance.now() - t0;
  if (!atOld.ok || atOld.value.items.length !== count) throw new Error('old list failed');
  const revisions = s.currentRevision();
  t0 = performance.now();
  s.compact(revisions);
  const compactMs = performance.now() - t0;
  s.close();
  return { count, listAllMs, listPagedMs, pages, listOldRevisionMs, compactRevisions: revisions, compactMs };
}

interface Fanout {
  watchers: number;
  writes: number;
  /** From the start of create() until every watcher has the event (includes the commit). */
  writeToAllP50Ms: number;
  writeToAllP99Ms: number;
  /** From the return of create() until every watcher has the event (the fan-out alone). */
  fanoutP50Ms: number;
  fanoutP99Ms: number;
  fanoutMaxMs: number;
}

async function fanout(): Promise<Fanout> {
  const watchers = 100;
  const rounds = 200;
  const s = SqliteStorage.open(join(dir, 'fanout.db'), { synchronous: 'NORMAL' });
  const received = new Map<number, number>(); // revision -> watchers that have it
  const done = new Map<number, () => void>();
  const consumers = Array.from({ length: watchers }, async () => {
    const w = s.watch('/registry/core/pods/', { fromRevision: 0 });
    if (!w.ok) throw new Error('watch failed');
    for await (const ev of w.value) {
      const rev = ev.object.modRevision;
      const n = (received.get(rev) ?? 0) + 1;
      received.set(rev, n);
      if (n === watchers) done.get(rev)?.();
      if (rev >= rounds) break;
    }
  });
  const total: number[] = [];
  const fan: number[] = [];
  await yieldLoop(); // let every consumer reach its first next()
  for (let i = 1; i <= rounds; i++) {
    const allHave = new Promise<void>((resolve) => done.set(i, resolve));
    const t0 = performance.now();
    s.create(key(i), pod(i));
    const t1 = performance.now();
    await allHave;
    const t2 = performance.now();
    total.push(t2 - t0);
    fan.push(t2 - t1);
    await yieldLoop();
  }
  await Promise.all(consumers);
  s.close();
  total.sort((a, b) => a - b);
  fan.sort((a, b) => a - b);
  const r2 = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    watchers,
    writes: rounds,
    writeToAllP50Ms: r2(percentile(total, 50)),
    writeToAllP99Ms: r2(percentile(total, 99)),
    fanoutP50Ms: r2(percentile(fan, 50)),
    fanoutP99Ms: r2(percentile(fan, 99)),
    fanoutMaxMs: r2(fan.at(-1) ?? NaN),
  };
}

try {
  const full = writes('FULL');
  const normal = writes('NORMAL');
  const list = lists();
  const fan = await fanout();
  const round = (x: number): number => Math.round(x * 100) / 100;
  const result = {
    benchmark: 'storage',
    node: process.version,
    n: N,
    writes: { FULL: full, NORMAL: normal },
    list: {
      ...list,
      listAllMs: round(list.listAllMs),
      listPagedMs: round(list.listPagedMs),
      listOldRevisionMs: round(list.listOldRevisionMs),
      compactMs: round(list.compactMs),
    },
    watchFanout: fan,
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    [
      '',
      `writes (${N} pods, ~1.2 KB each)`,
      `  synchronous=FULL   ${full.createsPerSec} creates/s, ${full.updatesPerSec} updates/s`,
      `  synchronous=NORMAL ${normal.createsPerSec} creates/s, ${normal.updatesPerSec} updates/s`,
      `list of ${list.count} objects: ${result.list.listAllMs} ms at once, ${result.list.listPagedMs} ms in ${list.pages} pages of 500, ${result.list.listOldRevisionMs} ms at an old revision`,
      `compaction of ${list.compactRevisions} revisions (2,500 superseded rows): ${result.list.compactMs} ms`,
      `watch fan-out to ${fan.watchers} watchers (${fan.writes} writes): after the commit p50 ${fan.fanoutP50Ms} ms, p99 ${fan.fanoutP99Ms} ms, max ${fan.fanoutMaxMs} ms;`,
      `  write start to all watchers p50 ${fan.writeToAllP50Ms} ms, p99 ${fan.writeToAllP99Ms} ms (synchronous=NORMAL)`,
    ].join('\n'),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
