import type { Probe, UnitProbes } from './units.js';

/**
 * Narrow views of the edge components the built-in probe units watch (issue 10): each is only
 * the method the probe calls, so the health folder depends on no other component.
 */
export interface RuntimeProbeTarget {
  /** CRI Version: answering at all is "up". */
  version(): Promise<unknown>;
}
export interface LinkProbeTarget {
  readonly state: string;
  readonly rtt: { rttMs: number; skewMs: number } | undefined;
}
export interface StoreProbeTarget {
  integrityOk(): boolean;
}
export interface BusProbeTarget {
  health(): { running: boolean; busConnected: boolean };
}

export interface EdgeProbeTargets {
  runtime?: RuntimeProbeTarget;
  link?: LinkProbeTarget;
  store?: StoreProbeTarget;
  bus?: BusProbeTarget;
}

/** Thrown while a measurement does not exist (offline: no RTT); the unit then reads "unknown", not "fail". */
export class NoMeasurementError extends Error {
  override readonly name = 'NoMeasurementError';
}

function abortable<T>(signal: AbortSignal, p: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * The probe units of an edge node (DESIGN §4): runtime = CRI Version answers, cloud-link =
 * link online, cloud-rtt / clock-skew = the link's last measurement, store = SQLite quick_check,
 * mqtt = the device bus is connected.
 */
export function edgeProbes(t: EdgeProbeTargets): UnitProbes {
  const probes: UnitProbes = {};
  const runtime = t.runtime;
  if (runtime !== undefined) {
    // A refused or timed-out call means the runtime is down — the very thing this unit reports.
    probes.runtime = (signal) =>
      abortable(
        signal,
        runtime.version().then(
          () => true,
          () => false,
        ),
      );
  }
  const link = t.link;
  if (link !== undefined) {
    // 'idle': not started yet (health starts before the link), so not known to be down.
    probes.cloudLink = () =>
      link.state === 'idle'
        ? Promise.reject(new NoMeasurementError('link not started'))
        : Promise.resolve(link.state === 'online');
    const measured =
      (pick: (r: { rttMs: number; skewMs: number }) => number): Probe =>
      () => {
        const r = link.rtt;
        if (link.state !== 'online' || r === undefined)
          return Promise.reject(new NoMeasurementError('no measurement while offline'));
        return Promise.resolve(pick(r));
      };
    probes.cloudRtt = measured((r) => r.rttMs);
    probes.clockSkew = measured((r) => r.skewMs);
  }
  const store = t.store;
  if (store !== undefined) {
    probes.store = () => {
      try {
        return Promise.resolve(store.integrityOk());
      } catch {
        // A store that cannot even run the check is not intact.
        return Promise.resolve(false);
      }
    };
  }
  const bus = t.bus;
  if (bus !== undefined)
    probes.mqtt = () => {
      const h = bus.health();
      // Not started yet is "unknown", not "down" (the bus starts after health).
      if (!h.running) return Promise.reject(new NoMeasurementError('device bus not started'));
      return Promise.resolve(h.busConnected);
    };
  return probes;
}
