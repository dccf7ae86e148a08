import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, ContainerId, Probe, RuntimeClient } from '../cri/index.js';

/**
 * Liveness, readiness and startup probes, as kubelet's prober (pkg/kubelet/prober): one worker
 * per (container, probe kind), running every periodSeconds after initialDelaySeconds, turning
 * raw results into a state with successThreshold/failureThreshold. A worker is bound to one
 * container id; a restarted container gets fresh workers (and fresh initial results).
 */

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeOutcome = 'success' | 'failure';

export interface ProbeTarget {
  readonly containerId: ContainerId;
  readonly container: Container;
  /** podIP, or 127.0.0.1 for host-network pods. */
  readonly host: string;
  /** When the container started (ms since epoch): initialDelaySeconds counts from here. */
  readonly startedAtMs: number;
}

/** Runs one probe once (kubelet prober.runProbe). */
export async function runProbe(
  rt: RuntimeClient,
  probe: Probe,
  t: ProbeTarget,
): Promise<{ outcome: ProbeOutcome; output: string }> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec !== undefined) {
    try {
      const r = await rt.execSync(t.containerId, probe.exec.command ?? [], probe.timeoutSeconds ?? 1);
      const output = Buffer.concat([r.stdout, r.stderr]).toString('utf8').slice(0, 10_240);
      return { outcome: r.exitCode === 0 ? 'success' : 'failure', output };
    } catch (e) {
      return { outcome: 'failure', output: e instanceof Error ? e.message : String(e) };
    }
  }
  if (probe.httpGet !== undefined) {
    const g = probe.httpGet;
    const port = resolvePort(g.port, t.container);
    if (port === undefined) return { outcome: 'failure', output: `invalid port ${String(g.port)}` };
    return httpProbe(
      g.scheme ?? 'HTTP',
      g.host ?? t.host,
      port,
      g.path ?? '/',
      g.httpHeaders ?? [],
      timeoutMs,
    );
  }
  if (probe.tcpSocket !== undefined) {
    const port = resolvePort(probe.tcpSocket.port, t.container);
    if (port === undefined)
      return { outcome: 'failure', output: `invalid port ${String(probe.tcpSocket.port)}` };
    return tcpProbe(probe.tcpSocket.host ?? t.host, port, timeoutMs);
  }
  return { outcome: 'failure', output: 'probe has no handler' };
}

/** A numeric port, or a named port of the container (kubelet findPortByName). */
export function resolvePort(port: number | string, c: Container): number | undefined {
  if (typeof port === 'number') return port > 0 && port < 65536 ? port : undefined;
  if (/^\d+$/.test(port)) return resolvePort(Number(port), c);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

function httpProbe(
  scheme: 'HTTP' | 'HTTPS',
  host: string,
  port: number,
  pathname: string,
  headers: readonly { name: string; value: string }[],
  timeoutMs: number,
): Promise<{ outcome: ProbeOutcome; output: string }> {
  return new Promise((resolve) => {
    const mod = scheme === 'HTTPS' ? https : http;
    const h: Record<string, string> = { 'User-Agent': 'kube-probe/1.34', Accept: '*/*' };
    for (const x of headers) h[x.name] = x.value;
    const req = mod.request(
      {
        host,
        port,
        path: pathname.startsWith('/') ? pathname : `/${pathname}`,
        method: 'GET',
        headers: h,
        timeout: timeoutMs,
        // kubelet does not verify certificates of HTTPS probes.
        ...(scheme === 'HTTPS' ? { rejectUnauthorized: false } : {}),
        agent: false,
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        // kubelet: 200 <= code < 400 is success.
        resolve({
          outcome: code >= 200 && code < 400 ? 'success' : 'failure',
          output: `HTTP probe failed with statuscode: ${code}`,
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(
        new Error(`Get "${scheme.toLowerCase()}://${host}:${port}${pathname}": context deadline exceeded`),
      );
    });
    req.on('error', (e) => {
      resolve({ outcome: 'failure', output: e.message });
    });
    req.end();
  });
}

function tcpProbe(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{ outcome: ProbeOutcome; output: string }> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (outcome: ProbeOutcome, output: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ outcome, output });
    };
    const timer = setTimeout(() => {
      done('failure', `dial tcp ${host}:${port}: i/o timeout`);
    }, timeoutMs);
    s.once('connect', () => {
      done('success', '');
    });
    s.once('error', (e) => {
      done('failure', e.message);
    });
  });
}

interface Worker {
  readonly kind: ProbeKind;
  readonly containerId: ContainerId;
  timer: NodeJS.Timeout | undefined;
  result: ProbeOutcome | undefined;
  successes: number;
  failures: number;
  stopped: boolean;
}

/** Per-container probe workers; `onChange` fires when a probe's state flips. */
export class ProbeManager {
  private readonly workers = new Map<string, Worker>();

  constructor(
    private readonly rt: RuntimeClient,
    private readonly onChange: (
      podUid: string,
      kind: ProbeKind,
      output: string,
      outcome: ProbeOutcome,
    ) => void,
  ) {}

  private static key(podUid: string, name: string, kind: ProbeKind): string {
    return `${podUid}/${name}/${kind}`;
  }

  /**
   * The state kubelet reports while no result exists yet: readiness false, liveness true
   * (a container is alive until proven otherwise), startup false.
   */
  result(podUid: string, name: string, kind: ProbeKind, containerId: ContainerId): ProbeOutcome | undefined {
    const w = this.workers.get(ProbeManager.key(podUid, name, kind));
    if (w === undefined || w.containerId !== containerId) return undefined;
    return w.result;
  }

  /** Ensures workers exist for a running container (and replaces those of an older container). */
  ensure(podUid: string, t: ProbeTarget): void {
    const kinds: [ProbeKind, Probe | undefined][] = [
      ['startup', t.container.startupProbe],
      ['liveness', t.container.livenessProbe],
      ['readiness', t.container.readinessProbe],
    ];
    for (const [kind, probe] of kinds) {
      const key = ProbeManager.key(podUid, t.container.name, kind);
      const existing = this.workers.get(key);
      if (probe === undefined) {
        if (existing !== undefined) this.stopWorker(key);
        continue;
      }
      if (existing?.containerId === t.containerId) continue;
      if (existing !== undefined) this.stopWorker(key);
      const w: Worker = {
        kind,
        containerId: t.containerId,
        timer: undefined,
        result: undefined,
        successes: 0,
        failures: 0,
        stopped: false,
      };
      this.workers.set(key, w);
      const delay = Math.max(0, t.startedAtMs + (probe.initialDelaySeconds ?? 0) * 1000 - Date.now());
      this.schedule(podUid, w, probe, t, delay);
    }
  }

  private schedule(podUid: string, w: Worker, probe: Probe, t: ProbeTarget, delayMs: number): void {
    if (w.stopped) return;
    w.timer = setTimeout(() => {
      void this.tick(podUid, w, probe, t);
    }, delayMs);
    w.timer.unref();
  }

  private async tick(podUid: string, w: Worker, probe: Probe, t: ProbeTarget): Promise<void> {
    // Startup gates the others (kubelet: liveness/readiness wait until the startup probe succeeded).
    const gated =
      w.kind !== 'startup' &&
      t.container.startupProbe !== undefined &&
      this.result(podUid, t.container.name, 'startup', t.containerId) !== 'success';
    // A startup probe that succeeded is not run again for this container.
    const done = w.kind === 'startup' && w.result === 'success';
    if (!gated && !done) {
      const { outcome, output } = await runProbe(this.rt, probe, t);
      if (w.stopped) return;
      if (outcome === 'success') {
        w.successes++;
        w.failures = 0;
      } else {
        w.failures++;
        w.successes = 0;
      }
      // Liveness and startup must have successThreshold 1 (API validation); readiness may use more.
      const need = outcome === 'success' ? (probe.successThreshold ?? 1) : (probe.failureThreshold ?? 3);
      const count = outcome === 'success' ? w.successes : w.failures;
      if (count >= need && w.result !== outcome) {
        w.result = outcome;
        this.onChange(podUid, w.kind, output, outcome);
      }
    }
    this.schedule(podUid, w, probe, t, (probe.periodSeconds ?? 10) * 1000);
  }

  private stopWorker(key: string): void {
    const w = this.workers.get(key);
    if (w === undefined) return;
    w.stopped = true;
    if (w.timer !== undefined) clearTimeout(w.timer);
    this.workers.delete(key);
  }

  /** Stops the workers of a pod, or of one container of it when `name` is given. */
  remove(podUid: string, name?: string): void {
    const prefix = name === undefined ? `${podUid}/` : `${podUid}/${name}/`;
    for (const k of [...this.workers.keys()]) if (k.startsWith(prefix)) this.stopWorker(k);
  }

  /** Pod uids that have workers. */
  pods(): Set<string> {
    return new Set([...this.workers.keys()].map((k) => k.split('/')[0] ?? ''));
  }

  stopAll(): void {
    for (const k of [...this.workers.keys()]) this.stopWorker(k);
  }
}
