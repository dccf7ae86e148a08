/**
 * Authentication (bearer tokens, client certificates signed by our CA) and authorization
 * by role. Roles follow from groups, like RBAC's bootstrap bindings: system:masters is
 * admin, tether:cloud is the cloud core's identity, tether:read-only reads everything.
 */
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { identityFromPeer } from './pki.js';
import type { Verb } from './resources.js';

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface TokenEntry {
  token: string;
  user: string;
  groups: string[];
}

export const ADMIN_GROUP = 'system:masters';
export const CLOUD_GROUP = 'tether:cloud';
export const READONLY_GROUP = 'tether:read-only';

export type Role = 'admin' | 'cloud' | 'read-only' | 'none';

/** Parses upstream's --token-auth-file CSV: token,user,uid,"group1,group2". */
export function parseTokenFile(text: string): TokenEntry[] {
  const out: TokenEntry[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) continue;
    const cols: string[] = [];
    const re = /"([^"]*)"|([^,]*)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(l)) !== null) {
      cols.push(m[1] ?? m[2] ?? '');
      if (re.lastIndex >= l.length) break;
      re.lastIndex++;
    }
    const [token, user, , groups] = cols;
    if (token === undefined || token === '' || user === undefined || user === '') continue;
    out.push({ token, user, groups: (groups ?? '').split(',').filter((g) => g !== '') });
  }
  return out;
}

export class Authenticator {
  private tokens: TokenEntry[];
  constructor(
    tokens: readonly TokenEntry[],
    private readonly tokensFile: string | undefined,
  ) {
    this.tokens = [...tokens];
    this.reload();
  }

  /** Re-reads the tokens file (called at start and on SIGHUP-like reloads). */
  reload(): void {
    if (this.tokensFile === undefined) return;
    try {
      const fromFile = parseTokenFile(readFileSync(this.tokensFile, 'utf8'));
      const seen = new Set(fromFile.map((t) => t.token));
      this.tokens = [...this.tokens.filter((t) => !seen.has(t.token)), ...fromFile];
    } catch {
      // A missing tokens file means no file tokens, as for an empty one.
    }
  }

  addToken(t: TokenEntry): void {
    this.tokens.push(t);
  }

  /** undefined = no credentials presented (anonymous); null = credentials presented but invalid. */
  authenticate(req: IncomingMessage): UserInfo | undefined | null {
    const sock = req.socket;
    if (sock instanceof TLSSocket && sock.authorized) {
      const peer = sock.getPeerCertificate();
      if (Object.keys(peer).length > 0) {
        const id = identityFromPeer(peer.subject);
        if (id !== undefined) return { name: id.user, groups: [...id.groups, 'system:authenticated'] };
      }
    }
    const h = req.headers.authorization;
    if (h === undefined) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (m === null) return null;
    return this.authenticateToken(m[1] ?? '');
  }

  /** A static bearer token (config or tokens file); null when none matches. */
  authenticateToken(token: string): UserInfo | null {
    const presented = Buffer.from(token);
    for (const t of this.tokens) {
      const b = Buffer.from(t.token);
      if (b.length === presented.length && timingSafeEqual(b, presented))
        return { name: t.user, groups: [...t.groups, 'system:authenticated'] };
    }
    return null;
  }
}

export function roleOf(u: UserInfo): Role {
  if (u.groups.includes(ADMIN_GROUP)) return 'admin';
  if (u.groups.includes(CLOUD_GROUP)) return 'cloud';
  if (u.groups.includes(READONLY_GROUP)) return 'read-only';
  return 'none';
}

export interface Attributes {
  verb: Verb | 'proxy' | 'connect';
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  isCustom: boolean;
}

const READ: ReadonlySet<string> = new Set(['get', 'list', 'watch']);

/** What the cloud core may write (DESIGN §2: it writes node/pod status, events, leases, twins, and asks
 * tokens for edge pods' projected volumes). */
const CLOUD_WRITES: ReadonlySet<string> = new Set([
  '/nodes',
  '/nodes/status',
  '/pods/status',
  '/pods',
  '/serviceaccounts/token',
  '/events',
  'events.k8s.io/events',
  'coordination.k8s.io/leases',
  '/secrets',
  '/configmaps',
  'apiextensions.k8s.io/customresourcedefinitions',
]);

export function authorize(u: UserInfo, a: Attributes): boolean {
  const role = roleOf(u);
  switch (role) {
    case 'admin':
      return true;
    case 'read-only':
      return READ.has(a.verb);
    case 'cloud': {
      if (READ.has(a.verb)) return true;
      if (a.isCustom) return true;
      const key = `${a.group}/${a.resource}${a.subresource === '' ? '' : `/${a.subresource}`}`;
      if (!CLOUD_WRITES.has(key)) return false;
      // The cloud core deletes pods (the kubelet's final delete) but never CRDs.
      if (a.group === 'apiextensions.k8s.io' && (a.verb === 'delete' || a.verb === 'deletecollection'))
        return false;
      if (a.resource === 'pods' && a.subresource === '' && a.verb !== 'delete') return false;
      return true;
    }
    case 'none':
      return false;
  }
}

/** Upstream's RBAC denial text: `User "x" cannot list resource "pods" in API group "" in the namespace "y"`. */
export function forbiddenReason(u: UserInfo, a: Attributes): string {
  const res = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const scope = a.namespace === '' ? 'at the cluster scope' : `in the namespace "${a.namespace}"`;
  return `User "${u.name}" cannot ${a.verb} resource "${res}" in API group "${a.group}" ${scope}`;
}
