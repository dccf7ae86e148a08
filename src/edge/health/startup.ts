import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { errorMessage } from '../../common/index.js';
import type { StateLibrary } from './library.js';
import type { UnitRunner } from './runner.js';
import type { HealthStore } from './store.js';
import type { UnitName, UnitSnapshot, Verdict, VerdictRecord } from './types.js';
import { unitName } from './unit.js';

/** The synthetic unit that carries an unclean previous shutdown into the status string. */
export const SHUTDOWN_UNIT: UnitName = unitName('shutdown');

/** The log line a clean stop writes; crash markers before it belong to an older run. */
export const CLEAN_SHUTDOWN_LOG_MESSAGE = 'health: clean shutdown';

/** Lines in a log tail that mean the process died rather than stopped. */
export const CRASH_PATTERNS: readonly RegExp[] = [
  /"level":\s*60\b/u, // pino fatal
  /\bFATAL\b/u,
  /uncaught\s*exception/iu,
  /unhandled\s*(promise\s*)?rejection/iu,
  /\bpanic\b/u,
  /Segmentation fault|SIGSEGV|SIGABRT/u,
  /heap out of memory|Out of memory: Killed process/iu,
];

export interface StartupCheckOptions {
  runner: UnitRunner;
  library: StateLibrary;
  store?: HealthStore;
  /** All units sampled once within this many ms; those that do not answer are unknown. */
  deadlineMs: number;
  /** File written at a clean stop (markCleanShutdown) and consumed here. */
  markerPath?: string;
  /** The edge process's own log file, whose tail is searched for crash markers. */
  logPath?: string;
  logTailBytes?: number;
  /** Freshness of the synthetic `shutdown=02` entry. */
  uncleanShutdownHoldMs?: number;
  now?: () => Date;
}

export interface StartupReport {
  at: Date;
  verdict: Verdict;
  reasons: string[];
  statusString: string;
  units: UnitSnapshot[];
  previousVerdict?: VerdictRecord;
  /** Set when the stored verdict could not be read. */
  previousVerdictError?: string;
  uncleanShutdown: boolean;
  /** What led to the shutdown judgement, for the Event and the log. */
  shutdownEvidence: string[];
  /** False only when a critical unit failed (issue 10): pods already running keep running either way. */
  admitNewPods: boolean;
  admitReason: string;
}

/** Writes the clean-shutdown marker; call it as the last step of a clean stop. */
export async function markCleanShutdown(markerPath: string, at: Date = new Date()): Promise<void> {
  const fh = await open(markerPath, 'w');
  try {
    await fh.writeFile(`${at.toISOString()}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readTail(file: string, bytes: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The last crash line after the last clean-shutdown line, if any. */
export function findCrashMarker(tail: string): string | undefined {
  const lines = tail.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    if (line.includes(CLEAN_SHUTDOWN_LOG_MESSAGE)) return undefined;
    if (CRASH_PATTERNS.some((re) => re.test(line)))
      return line.length > 200 ? `${line.slice(0, 200)}…` : line;
  }
  return undefined;
}

async function judgeShutdown(
  opts: StartupCheckOptions,
  previousRunSeen: boolean,
): Promise<{ unclean: boolean; evidence: string[] }> {
  const evidence: string[] = [];
  let unclean = false;
  if (opts.markerPath !== undefined) {
    const marker = await readFile(opts.markerPath, 'utf8').catch(() => undefined);
    if (marker !== undefined) {
      evidence.push(`clean-shutdown marker from ${marker.trim()}`);
      // Consumed now: if this run dies, the next start must not find it.
      await rm(opts.markerPath, { force: true });
    } else if (previousRunSeen) {
      unclean = true;
      evidence.push('no clean-shutdown marker after the previous run');
    } else {
      evidence.push('first start: no previous run recorded');
    }
  }
  if (opts.logPath !== undefined) {
    const tail = await readTail(opts.logPath, opts.logTailBytes ?? 64 * 1024);
    const crash = tail === undefined ? undefined : findCrashMarker(tail);
    if (crash !== undefined) {
      unclean = true;
      evidence.push(`crash marker in log: ${crash}`);
    }
  }
  return { unclean, evidence };
}

/**
 * The start-up check (seed: the kubelet queries state and logs before the service starts;
 * issue 10): runs every unit once within a deadline, reads the previous verdict and looks for
 * an unclean previous shutdown, records the outcome in the state library (so it is persisted
 * and emitted), and says whether new pods may be admitted.
 */
export async function runStartupCheck(opts: StartupCheckOptions): Promise<StartupReport> {
  const now = opts.now ?? (() => new Date());
  let previousVerdict: VerdictRecord | undefined;
  let previousVerdictError: string | undefined;
  try {
    previousVerdict = await opts.store?.load();
  } catch (e) {
    previousVerdictError = errorMessage(e);
  }
  const logExists =
    opts.logPath === undefined
      ? false
      : await readTail(opts.logPath, 1).then((t) => t !== undefined && t !== '');
  const shutdown = await judgeShutdown(
    opts,
    previousVerdict !== undefined || previousVerdictError !== undefined || logExists,
  );

  await opts.runner.sampleAll(opts.deadlineMs);

  if (shutdown.unclean) {
    if (!opts.library.has(SHUTDOWN_UNIT)) {
      opts.library.register({
        name: SHUTDOWN_UNIT,
        mode: 'yesno',
        critical: false,
        weight: 1,
        freshnessMs: opts.uncleanShutdownHoldMs ?? 600_000,
      });
    }
    opts.library.record({ mode: 'yesno', unit: SHUTDOWN_UNIT, value: 0, result: '02', at: now() });
  }

  const ev = opts.library.evaluate();
  // "records the outcome, and starts" (issue 10): the verdict is durable before serving begins.
  await opts.library.flush();
  const failedCritical = ev.units.filter((u) => u.critical && u.state === 'fail');
  const report: StartupReport = {
    at: ev.at,
    verdict: ev.verdict,
    reasons: ev.reasons,
    statusString: ev.statusString,
    units: ev.units,
    uncleanShutdown: shutdown.unclean,
    shutdownEvidence: shutdown.evidence,
    admitNewPods: failedCritical.length === 0,
    admitReason:
      failedCritical.length === 0
        ? 'no critical unit failed'
        : `critical unit(s) failed: ${failedCritical.map((u) => u.unit).join(', ')}; running pods keep running`,
  };
  if (previousVerdict !== undefined) report.previousVerdict = previousVerdict;
  if (previousVerdictError !== undefined) report.previousVerdictError = previousVerdictError;
  return report;
}

/** Appends the clean-shutdown line to a plain log file (for processes that do not log through pino to it). */
export async function appendCleanShutdownLine(logPath: string, at: Date = new Date()): Promise<void> {
  await writeFile(
    logPath,
    `${JSON.stringify({ time: at.toISOString(), msg: CLEAN_SHUTDOWN_LOG_MESSAGE })}\n`,
    {
      flag: 'a',
    },
  );
}
