import http from 'node:http';
import https from 'node:https';
import type { Container, ContainerId, LifecycleHandler, RuntimeClient } from '../cri/index.js';
import { resolvePort } from './probes.js';

/**
 * Lifecycle hooks (postStart, preStop) as kubelet's handlerRunner (pkg/kubelet/lifecycle/handlers.go):
 * exec through ExecSync, httpGet as one GET whose transport error (not its status code) fails the
 * hook, sleep. tcpSocket is accepted by the API for backward compatibility but kubelet does not run
 * it: "TCPSocket is NOT supported as a LifecycleHandler … lifecycle hooks will fail at runtime when
 * it is specified" (core/v1 LifecycleHandler) — so it fails here too, with kubelet's message.
 */

export type HookResult = { ok: true } | { ok: false; message: string };

export interface HookTarget {
  readonly containerId: ContainerId;
  readonly container: Container;
  /** Default host of an httpGet hook: the pod IP (127.0.0.1 for host-network pods). */
  readonly host: string;
  /** Bound for exec/httpGet/sleep; 0 = none (postStart: kubelet sets no timeout). */
  readonly timeoutSeconds: number;
}

export async function runHook(rt: RuntimeClient, h: LifecycleHandler, t: HookTarget): Promise<HookResult> {
  if (h.exec !== undefined) {
    try {
      const r = await rt.execSync(t.containerId, h.exec.command ?? [], t.timeoutSeconds);
      if (r.exitCode === 0) return { ok: true };
      const out = Buffer.concat([r.stdout, r.stderr]).toString('utf8').slice(0, 1024);
      return {
        ok: false,
        message: `command ${JSON.stringify(h.exec.command ?? [])} exited with ${r.exitCode}: ${out}`,
      };
    } catch (e) {
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  }
  if (h.httpGet !== undefined) {
    const port = resolvePort(h.httpGet.port, t.container);
    if (port === undefined) return { ok: false, message: `invalid port ${String(h.httpGet.port)}` };
    return httpHook(
      h.httpGet.scheme ?? 'HTTP',
      h.httpGet.host ?? t.host,
      port,
      h.httpGet.path ?? '/',
      h.httpGet.httpHeaders ?? [],
      t.timeoutSeconds,
    );
  }
  if (h.sleep !== undefined) {
    const s = t.timeoutSeconds > 0 ? Math.min(h.sleep.seconds, t.timeoutSeconds) : h.sleep.seconds;
    await new Promise((r) => setTimeout(r, s * 1000));
    return { ok: true };
  }
  // tcpSocket (or nothing): kubelet's "Cannot run handler: invalid handler".
  return { ok: false, message: `Cannot run handler: invalid handler: ${JSON.stringify(h)}` };
}

function httpHook(
  scheme: 'HTTP' | 'HTTPS',
  host: string,
  port: number,
  pathname: string,
  headers: readonly { name: string; value: string }[],
  timeoutSeconds: number,
): Promise<HookResult> {
  return new Promise((resolve) => {
    const mod = scheme === 'HTTPS' ? https : http;
    const h: Record<string, string> = { 'User-Agent': 'kube-lifecycle/1.34', Accept: '*/*' };
    for (const x of headers) h[x.name] = x.value;
    const url = `${scheme.toLowerCase()}://${host}:${port}${pathname}`;
    const req = mod.request(
      {
        host,
        port,
        path: pathname.startsWith('/') ? pathname : `/${pathname}`,
        method: 'GET',
        headers: h,
        ...(timeoutSeconds > 0 ? { timeout: timeoutSeconds * 1000 } : {}),
        ...(scheme === 'HTTPS' ? { rejectUnauthorized: false } : {}),
        agent: false,
      },
      (res) => {
        // kubelet discards the body and does not judge the status code of a hook.
        res.resume();
        res.on('end', () => {
          resolve({ ok: true });
        });
        res.on('error', () => {
          resolve({ ok: true });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`Get "${url}": context deadline exceeded`));
    });
    req.on('error', (e) => {
      resolve({ ok: false, message: `Get "${url}": ${e.message}` });
    });
    req.end();
  });
}
