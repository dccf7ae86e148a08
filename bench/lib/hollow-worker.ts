/**
 * A worker process of hollow edges (bench/lib/fleet.ts forks it): runs its share of
 * HollowEdges and answers the main bench process over IPC. Not run directly.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { CertificateAuthority } from '../../src/common/index.js';
import { type FromWorker, type ToWorker, type WorkerInit } from './fleet.js';
import { HollowEdge } from './hollow-edge.js';
import { summarizeCpuProfile, type CpuProfile } from './inspector.js';
import { rssBytes } from './procstat.js';

const edges: HollowEdge[] = [];
let init: WorkerInit | undefined;
let ca: Promise<CertificateAuthority> | undefined;
const markedConnects: number[] = [];
let markedHolders: HollowEdge[] = [];
let growing: Promise<void> = Promise.resolve();
let profiler: Session | undefined;

const send = (m: FromWorker): void => {
  process.send?.(m);
};

async function grow(upTo: number): Promise<void> {
  const cfg = init;
  if (cfg === undefined || ca === undefined) throw new Error('grow before init');
  const authority = await ca;
  // 25 at a time: key generation and CSR signing are CPU work, the handshakes queue behind them
  for (let i = cfg.from + edges.length; i < upTo; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, upTo - i) }, async (_, j) => {
        const idx = i + j;
        const e = await HollowEdge.create({
          name: `hollow-${String(idx)}`,
          index: idx,
          dir: cfg.dir,
          cloudUrl: cfg.cloudUrl,
          ca: authority,
          storeSync: cfg.storeSync,
          store: cfg.store,
          outboxPollMs: cfg.outboxPollMs,
          ...(cfg.refusedWindowMs < 0 ? {} : { refusedWindowMs: cfg.refusedWindowMs }),
          reportNode: cfg.reportNode,
          ...(cfg.pkiCache === '' ? {} : { pkiCache: cfg.pkiCache }),
        });
        e.onPod = (p) => {
          send({
            t: 'pod',
            name: p.name,
            storedAt: p.storedAt,
            edge: p.edge,
            ...(p.seq === undefined ? {} : { hubSentAt: p.hubSentAt, receivedAt: p.receivedAt, seq: p.seq }),
          });
        };
        edges.push(e);
        await e.start();
      }),
    );
    send({ t: 'started', edges: edges.length });
    // at most ~100 edges of this worker connecting at once (30 s at most per batch): starting
    // thousands at once only measures how the cloud sheds a join burst, and the storm does that
    const until = Date.now() + 30_000;
    while (edges.filter((e) => e.link.state !== 'online').length > 100 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
  }
}

process.on('message', (m: ToWorker) => {
  void (async () => {
    switch (m.t) {
      case 'init':
        init = m;
        ca = CertificateAuthority.load(m.caCertPem, m.caKeyPem);
        return;
      case 'grow':
        try {
          growing = growing.then(() => grow(m.upTo));
          await growing;
          send({ t: 'reply', id: m.id });
        } catch (e) {
          send({ t: 'reply', id: m.id, error: String(e) });
        }
        return;
      case 'mark':
        markedConnects.length = 0;
        for (const e of edges) markedConnects.push(e.link.counters.connects);
        markedHolders = edges.filter((e) => e.held.has(m.fanKey));
        send({ t: 'reply', id: m.id });
        return;
      case 'status': {
        let online = 0;
        let duplicates = 0;
        let connects = 0;
        let reconnectedOnline = 0;
        let connecting = 0;
        let backoff = 0;
        let attempts = 0;
        let refused = 0;
        let resets = 0;
        let timeouts = 0;
        edges.forEach((e, k) => {
          const on = e.link.state === 'online';
          if (on) online++;
          if (e.link.state === 'connecting') connecting++;
          else if (e.link.state === 'backoff') backoff++;
          attempts += e.link.counters.attempts;
          refused += e.link.counters.refused;
          resets += e.link.counters.resets;
          timeouts += e.link.counters.timeouts;
          duplicates += e.link.counters.duplicates;
          connects += e.link.counters.connects;
          if (on && e.link.counters.connects > (markedConnects[k] ?? Infinity)) reconnectedOnline++;
        });
        send({
          t: 'reply',
          id: m.id,
          status: {
            edges: edges.length,
            online,
            duplicates,
            connects,
            reconnectedOnline,
            marked: markedHolders.length,
            markedWithoutRv: markedHolders.filter((e) => e.held.get(m.fanKey) !== m.fanRv).length,
            rssMB: Math.round(rssBytes(process.pid) / 1048576),
            connecting,
            backoff,
            attempts,
            refused,
            resets,
            timeouts,
          },
        });
        return;
      }
      case 'profile':
        if (m.action === 'start') {
          profiler = new Session();
          profiler.connect();
          await profiler.post('Profiler.enable');
          await profiler.post('Profiler.setSamplingInterval', { interval: 1000 });
          await profiler.post('Profiler.start');
          send({ t: 'reply', id: m.id });
        } else {
          const r = (await profiler?.post('Profiler.stop')) as { profile: CpuProfile } | undefined;
          profiler?.disconnect();
          profiler = undefined;
          if (r === undefined) {
            send({ t: 'reply', id: m.id, error: 'no profile running' });
            return;
          }
          writeFileSync(m.file, JSON.stringify(r.profile));
          send({ t: 'reply', id: m.id, profile: summarizeCpuProfile(r.profile, 15) });
        }
        return;
      case 'stop':
        for (let i = 0; i < edges.length; i += 200)
          await Promise.all(edges.slice(i, i + 200).map((e) => e.stop()));
        send({ t: 'reply', id: m.id });
        process.disconnect();
        return;
    }
  })().catch((e: unknown) => {
    send({ t: 'fatal', error: String(e) });
  });
});
// The main bench process went away (crash, SIGKILL): do not leave edges reconnecting forever.
process.on('disconnect', () => {
  process.exit(0);
});
