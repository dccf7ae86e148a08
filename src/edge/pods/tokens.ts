import { randomUUID } from 'node:crypto';
import { err, errorMessage, ok, type Logger, type Result } from '../../common/index.js';
import { messageId, type Body, type Envelope, type MessageId } from '../../protocol/index.js';
import type { Pod } from '../cri/index.js';
import type { TokenSource, TokenWant } from './volumes.js';

/** What the token manager needs of the link (src/edge/link Link satisfies it). */
export interface TokenLink {
  send(body: Body, id?: MessageId): boolean;
}

/** What it needs of the edge store: one meta key holds every token (survives restarts). */
export interface TokenStore {
  getMeta(k: string): string | undefined;
  setMeta(k: string, v: string): void;
}

export interface TokenManagerOptions {
  /** Give up on an unanswered request after this long and ask again (default 30 s). */
  readonly replyTimeoutMs?: number;
  /** After a refusal, ask again no sooner than this (default 10 s): pods re-sync every few seconds. */
  readonly retryAfterMs?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

interface Held {
  readonly uid: string;
  readonly token: string;
  /** ms since the epoch */
  readonly obtainedAt: number;
  readonly expiresAt: number;
}

const META = 'serviceAccountTokens';
/** kubelet token manager: refresh past 80 % of the lifetime, or once the token is 24 h old. */
const REFRESH_FRACTION = 0.8;
const MAX_AGE_MS = 24 * 3600_000;

/**
 * The edge's service account token manager (kubelet pkg/kubelet/token, over the channel): the edge
 * cannot call TokenRequest itself, so it asks the cloud with a `serviceAccountToken` query, which
 * checks the pod is bound to this node. Tokens are kept in the edge store; offline (DESIGN §3
 * autonomy) the held token keeps being served — refreshed once the link is back.
 */
export class TokenManager implements TokenSource {
  readonly name = 'service-account-tokens';
  private readonly held = new Map<string, Held>();
  private readonly pending = new Map<MessageId, { key: string; uid: string; at: number }>();
  /** The cloud's last refusal per key, shown in the pod's FailedMount event. */
  private readonly failures = new Map<string, { message: string; at: number }>();
  private readonly now: () => number;
  private listener: ((uid: string) => void) | undefined;

  constructor(
    private readonly store: TokenStore,
    private readonly link: TokenLink,
    private readonly log: Logger,
    private readonly opts: TokenManagerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    try {
      const saved = JSON.parse(store.getMeta(META) ?? '{}') as Record<string, Held>;
      for (const [k, h] of Object.entries(saved)) this.held.set(k, h);
    } catch {
      // A damaged record only costs a fresh request per pod.
    }
  }

  /** Called with the pod uid when a token arrived or changed (the pod manager re-syncs the pod). */
  onToken(fn: (uid: string) => void): void {
    this.listener = fn;
  }

  token(pod: Pod, want: TokenWant): Result<string, string> {
    const uid = pod.metadata.uid ?? '';
    const key = keyOf(uid, pod.spec.serviceAccountName ?? 'default', want);
    const h = this.held.get(key);
    const now = this.now();
    if (h === undefined || now >= refreshAt(h)) this.request(pod, key, want);
    if (h !== undefined) return ok(h.token);
    return err(this.failures.get(key)?.message ?? 'waiting for the cloud to issue a service account token');
  }

  /** The pod is gone: its tokens go too. */
  forget(uid: string): void {
    for (const [id, p] of this.pending) if (p.uid === uid) this.pending.delete(id);
    let changed = false;
    for (const [k, h] of this.held) {
      if (h.uid !== uid) continue;
      this.held.delete(k);
      this.failures.delete(k);
      changed = true;
    }
    if (changed) this.save();
  }

  /** Feed every reply the link forwards; true when it answered one of this manager's queries. */
  message(env: Envelope): boolean {
    if (env.kind !== 'reply') return false;
    const p = this.pending.get(env.ref);
    if (p === undefined) return false;
    this.pending.delete(env.ref);
    if (env.method === 'error') {
      this.failures.set(p.key, { message: `${env.code}: ${env.message}`, at: this.now() });
      this.log.warn({ uid: p.uid, code: env.code, message: env.message }, 'the cloud refused a token');
    } else if (env.method === 'serviceAccountToken') {
      const expiresAt = Date.parse(env.result.expirationTimestamp);
      this.held.set(p.key, {
        uid: p.uid,
        token: env.result.token,
        obtainedAt: this.now(),
        expiresAt: Number.isNaN(expiresAt) ? this.now() + 3600_000 : expiresAt,
      });
      this.failures.delete(p.key);
      this.save();
    } else {
      this.failures.set(p.key, { message: `the cloud answered with ${env.method}`, at: this.now() });
    }
    this.listener?.(p.uid);
    return true;
  }

  private request(pod: Pod, key: string, want: TokenWant): void {
    const now = this.now();
    const failed = this.failures.get(key);
    if (failed !== undefined && now - failed.at < (this.opts.retryAfterMs ?? 10_000)) return;
    for (const [id, p] of this.pending) {
      if (p.key !== key) continue;
      if (now - p.at < (this.opts.replyTimeoutMs ?? 30_000)) return;
      this.pending.delete(id);
    }
    const id = messageId(randomUUID());
    const uid = pod.metadata.uid ?? '';
    const sent = this.link.send(
      {
        kind: 'query',
        method: 'serviceAccountToken',
        params: {
          namespace: pod.metadata.namespace ?? 'default',
          pod: pod.metadata.name ?? '',
          podUid: uid,
          serviceAccountName: pod.spec.serviceAccountName ?? 'default',
          expirationSeconds: want.expirationSeconds,
          ...(want.audience === undefined ? {} : { audience: want.audience }),
        },
      },
      id,
    );
    // Offline: nothing sent; the next sync of the pod asks again, a held token is served meanwhile.
    if (sent) this.pending.set(id, { key, uid, at: now });
  }

  private save(): void {
    try {
      this.store.setMeta(META, JSON.stringify(Object.fromEntries(this.held)));
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'could not store service account tokens');
    }
  }
}

function keyOf(uid: string, sa: string, want: TokenWant): string {
  return JSON.stringify([uid, sa, want.audience ?? '', want.expirationSeconds]);
}

function refreshAt(h: Held): number {
  return Math.min(h.obtainedAt + (h.expiresAt - h.obtainedAt) * REFRESH_FRACTION, h.obtainedAt + MAX_AGE_MS);
}
