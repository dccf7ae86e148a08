import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { errorMessage, type Logger } from '../../common/index.js';
import type { KubeClient } from '../kube/index.js';
import { apiStatus, BootstrapError } from './errors.js';
import { b64, ensureNamespace, unb64 } from './kube.js';

/** kubeadm's bootstrap token shape: `<6>.<16>` of [a-z0-9]. */
export const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const TOKEN_SECRET_TYPE = 'bootstrap.tether.dev/token';
export const TOKEN_PREFIX = 'tether-token-';
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface TokenInfo {
  readonly id: string;
  readonly expiresAt: Date;
  readonly uses: number;
  /** Joins allowed in total; undefined = until it expires. */
  readonly maxUses?: number;
  /** The only node name this token may join as. */
  readonly node?: string;
  readonly description: string;
  readonly createdBy: string;
  readonly createdAt: Date;
}

export interface CreateTokenOptions {
  /** default 24 h, like kubeadm */
  readonly ttlMs?: number;
  readonly node?: string;
  readonly maxUses?: number;
  readonly description?: string;
  readonly createdBy?: string;
}

export interface CreatedToken {
  readonly info: TokenInfo;
  /** `ID.SECRET` — shown once; only its SHA-256 is stored. */
  readonly token: string;
}

export type TokenCheck =
  | { ok: true; info: TokenInfo; secret: V1Secret }
  | {
      ok: false;
      reason: 'malformed' | 'unknown' | 'invalid' | 'expired' | 'exhausted';
      message: string;
    };

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET.charAt(randomInt(ALPHABET.length));
  return s;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The full command an admin hands to the edge (printed by `tether token create`). */
export function joinCommand(cloudUrl: string, token: string, caPin: string, node?: string): string {
  return (
    `tether edge join --cloud ${cloudUrl} --token ${token} --ca-cert-hash ${caPin}` +
    (node === undefined ? '' : ` --node ${node}`)
  );
}

/**
 * Join tokens (issue 5), kept as Secrets `tether-system/tether-token-<id>` of type
 * bootstrap.tether.dev/token. Unlike kubeadm the Secret holds only the SHA-256 of the secret
 * part, so read access to Secrets does not hand out joins.
 */
export class TokenStore {
  constructor(
    private readonly kube: KubeClient,
    private readonly log: Logger,
    private readonly namespace = 'tether-system',
    private readonly now: () => number = Date.now,
  ) {}

  async create(opts: CreateTokenOptions = {}): Promise<CreatedToken> {
    if (opts.node !== undefined && !NODE_NAME.test(opts.node))
      throw new BootstrapError(
        'TOKEN_INVALID',
        `--node ${opts.node} is not a valid node name (a DNS-1123 subdomain)`,
      );
    if (opts.ttlMs !== undefined && !(opts.ttlMs > 0))
      throw new BootstrapError('TOKEN_INVALID', 'the token lifetime must be positive');
    if (opts.maxUses !== undefined && !(Number.isInteger(opts.maxUses) && opts.maxUses >= 1))
      throw new BootstrapError('TOKEN_INVALID', 'the maximum number of uses must be a positive integer');
    const core = this.kube.core;
    await ensureNamespace(core, this.namespace);
    const createdAt = new Date(this.now());
    const expiresAt = new Date(createdAt.getTime() + (opts.ttlMs ?? 24 * 3600_000));
    for (let attempt = 0; ; attempt++) {
      const id = randomString(6);
      const secret = randomString(16);
      const info: TokenInfo = {
        id,
        expiresAt,
        uses: 0,
        ...(opts.maxUses === undefined ? {} : { maxUses: opts.maxUses }),
        ...(opts.node === undefined ? {} : { node: opts.node }),
        description: opts.description ?? '',
        createdBy: opts.createdBy ?? 'unknown',
        createdAt,
      };
      const data: Record<string, string> = {
        'token-id': b64(id),
        'token-secret-sha256': b64(sha256(secret).toString('hex')),
        expiration: b64(expiresAt.toISOString()),
        'usage-count': b64('0'),
        description: b64(info.description),
        'created-by': b64(info.createdBy),
        'created-at': b64(createdAt.toISOString()),
      };
      if (opts.node !== undefined) data['node'] = b64(opts.node);
      if (opts.maxUses !== undefined) data['max-uses'] = b64(String(opts.maxUses));
      try {
        await core.createNamespacedSecret({
          namespace: this.namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            type: TOKEN_SECRET_TYPE,
            metadata: {
              name: TOKEN_PREFIX + id,
              namespace: this.namespace,
              labels: { 'app.kubernetes.io/part-of': 'tether', 'tether.dev/token': 'true' },
            },
            data,
          },
        });
        this.log.info({ id, node: opts.node, expiresAt }, 'created a join token');
        return { info, token: `${id}.${secret}` };
      } catch (e) {
        // A 1 in 36^6 id collision: draw again.
        if (apiStatus(e) === 409 && attempt < 3) continue;
        throw new BootstrapError('TOKEN_STORE', `could not store the join token: ${errorMessage(e)}`, {
          cause: e,
        });
      }
    }
  }

  /** Every token, oldest first — never its secret (only the hash is stored anyway). */
  async list(): Promise<TokenInfo[]> {
    let items: V1Secret[];
    try {
      items = (await this.kube.core.listNamespacedSecret({ namespace: this.namespace })).items;
    } catch (e) {
      if (apiStatus(e) === 404) return [];
      throw new BootstrapError('TOKEN_STORE', `could not list join tokens: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    return items
      .filter((s) => s.type === TOKEN_SECRET_TYPE)
      .map((s) => parse(s))
      .filter((t): t is TokenInfo => t !== undefined)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** Deletes the token; false if there was none. */
  async revoke(id: string): Promise<boolean> {
    try {
      await this.kube.core.deleteNamespacedSecret({ name: TOKEN_PREFIX + id, namespace: this.namespace });
      this.log.info({ id }, 'revoked a join token');
      return true;
    } catch (e) {
      if (apiStatus(e) === 404) return false;
      throw new BootstrapError('TOKEN_STORE', `could not revoke join token ${id}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
  }

  /**
   * Checks `ID.SECRET`. The id is public (it names the Secret, as in kubeadm), so unknown ids get
   * a clear sentence; anything about the token beyond that — expiry, uses — is told only to
   * someone who holds the right secret, and a wrong secret gets the same "invalid token" always.
   */
  async check(token: string): Promise<TokenCheck> {
    const m = TOKEN_RE.exec(token);
    if (m === null)
      return {
        ok: false,
        reason: 'malformed',
        message: 'malformed token: expected ID.SECRET with 6 and 16 characters of [a-z0-9]',
      };
    const id = m[1] ?? '';
    const given = sha256(m[2] ?? '');
    const s = await this.read(id);
    const info = s === undefined ? undefined : parse(s);
    if (s === undefined || info === undefined)
      return {
        ok: false,
        reason: 'unknown',
        message: `token ${id} does not exist or was revoked: create a new one with \`tether token create\``,
      };
    const stored = Buffer.from(unb64(s.data?.['token-secret-sha256']) ?? '', 'hex');
    // Both are SHA-256 digests, so equal lengths except for a corrupt Secret.
    if (stored.length !== given.length || !timingSafeEqual(stored, given))
      return { ok: false, reason: 'invalid', message: 'invalid token' };
    if (info.expiresAt.getTime() <= this.now())
      return {
        ok: false,
        reason: 'expired',
        message: `token ${id} expired at ${info.expiresAt.toISOString()}: create a new one with \`tether token create\``,
      };
    if (info.maxUses !== undefined && info.uses >= info.maxUses)
      return {
        ok: false,
        reason: 'exhausted',
        message: `token ${id} was already used ${info.uses} time(s), its limit: create a new one with \`tether token create\``,
      };
    return { ok: true, info, secret: s };
  }

  /**
   * Counts one join. Optimistic concurrency on the Secret's resourceVersion, so two joins racing
   * for the last use of a limited token cannot both win. False: the token is used up or gone.
   */
  async recordUse(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const s = await this.read(id);
      const info = s === undefined ? undefined : parse(s);
      if (s === undefined || info === undefined) return false;
      if (info.maxUses !== undefined && info.uses >= info.maxUses) return false;
      const body: V1Secret = { ...s, data: { ...s.data, 'usage-count': b64(String(info.uses + 1)) } };
      try {
        await this.kube.core.replaceNamespacedSecret({
          name: TOKEN_PREFIX + id,
          namespace: this.namespace,
          body,
        });
        return true;
      } catch (e) {
        if (apiStatus(e) === 409) continue;
        if (apiStatus(e) === 404) return false;
        throw new BootstrapError('TOKEN_STORE', `could not count a use of token ${id}: ${errorMessage(e)}`, {
          cause: e,
        });
      }
    }
    return false;
  }

  private async read(id: string): Promise<V1Secret | undefined> {
    try {
      const s = await this.kube.core.readNamespacedSecret({
        name: TOKEN_PREFIX + id,
        namespace: this.namespace,
      });
      return s.type === TOKEN_SECRET_TYPE ? s : undefined;
    } catch (e) {
      if (apiStatus(e) === 404) return undefined;
      throw new BootstrapError('TOKEN_STORE', `could not read join token ${id}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
  }
}

function parse(s: V1Secret): TokenInfo | undefined {
  const d = s.data ?? {};
  const id = unb64(d['token-id']);
  const exp = unb64(d['expiration']);
  if (id === undefined || exp === undefined || Number.isNaN(Date.parse(exp))) return undefined;
  const node = unb64(d['node']);
  const max = unb64(d['max-uses']);
  return {
    id,
    expiresAt: new Date(exp),
    uses: Number(unb64(d['usage-count']) ?? '0') || 0,
    ...(max === undefined ? {} : { maxUses: Number(max) }),
    ...(node === undefined || node === '' ? {} : { node }),
    description: unb64(d['description']) ?? '',
    createdBy: unb64(d['created-by']) ?? '',
    createdAt: new Date(unb64(d['created-at']) ?? s.metadata?.creationTimestamp ?? 0),
  };
}
