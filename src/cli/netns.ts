import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

/**
 * Network namespaces for the extra edges of `tether up --edges N` (issue 11): edge i lives in a
 * namespace joined to this host by a veth pair on a /30 of 10.214.0.0/16 (host .1, edge .2), so
 * cutting its link (`ip link set <hostIf> down`) is a real outage (DESIGN §9).
 *
 * Names and addresses are per state dir, so two `tether up --edges` on one host (two test runs)
 * do not take each other's interfaces: the default state dir keeps the short names the README
 * shows (`tether-up-1`, `tup1h`, 10.214.1.0/30); any other gets a tag, 6 hex digits of a hash of
 * its path (`tether-up-<tag>-1`, `tu<tag>1h`: at most 12 characters, IFNAMSIZ allows 15), and a
 * free /30 from a hash-chosen start. The same state dir always gives the same names, so a re-run
 * or `tether down` finds what an earlier (even SIGKILLed) run left — and only that.
 */
export interface UpNetns {
  readonly index: number;
  readonly ns: string;
  /** the host side of the veth: `ip link set <hostIf> down` cuts the edge off */
  readonly hostIf: string;
  readonly edgeIf: string;
  readonly hostIp: string;
  readonly edgeIp: string;
}

export const DEFAULT_UP_STATE_DIR = '/var/lib/tether/up';

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: 'pipe' });

/** '' for the default state dir, else 6 hex digits naming this state dir. */
export function upTag(stateDir: string): string {
  const dir = resolve(stateDir);
  return dir === DEFAULT_UP_STATE_DIR ? '' : createHash('sha256').update(dir).digest('hex').slice(0, 6);
}

/** The names of edge `index`'s namespace and veth pair for a tag. */
export function upNetnsNames(
  tag: string,
  index: number,
): Pick<UpNetns, 'index' | 'ns' | 'hostIf' | 'edgeIf'> {
  if (!Number.isInteger(index) || index < 1 || index > 250)
    throw new RangeError(`edge index ${index} out of 1..250`);
  return tag === ''
    ? { index, ns: `tether-up-${index}`, hostIf: `tup${index}h`, edgeIf: `tup${index}e` }
    : { index, ns: `tether-up-${tag}-${index}`, hostIf: `tu${tag}${index}h`, edgeIf: `tu${tag}${index}e` };
}

/** Removes the namespace and its veth if they exist (idempotent). */
export function removeNetns(n: Pick<UpNetns, 'ns' | 'hostIf'>): void {
  try {
    ip('link', 'del', n.hostIf);
  } catch {
    /* not there, or gone with the namespace */
  }
  try {
    ip('netns', 'del', n.ns);
  } catch {
    /* not there */
  }
}

/**
 * Namespaces and host-side veths of this tag that exist now (what a SIGKILLed run left), removed.
 * Only names of this exact tag match: another state dir's are left alone.
 */
export function removeLeftoverNetns(tag: string): string[] {
  const nsRe = tag === '' ? /^tether-up-(\d+)$/ : new RegExp(`^tether-up-${tag}-(\\d+)$`);
  const ifRe = tag === '' ? /^tup(\d+)h$/ : new RegExp(`^tu${tag}(\\d+)h$`);
  const gone: string[] = [];
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (!nsRe.test(name)) continue;
    try {
      ip('netns', 'del', name);
      gone.push(name);
    } catch {
      /* raced with its owner */
    }
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    // "12: tup1h@if11: <...>"
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '';
    if (!ifRe.test(name)) continue;
    try {
      ip('link', 'del', name);
      gone.push(name);
    } catch {
      /* gone with its peer */
    }
  }
  return gone;
}

/** The /30 blocks of 10.214.0.0/16 that an address on this host already uses. */
function usedBlocks(): Set<number> {
  const used = new Set<number>();
  for (const m of ip('-o', '-4', 'addr', 'show').matchAll(/inet 10\.214\.(\d+)\.(\d+)/g))
    used.add(Number(m[1]) * 64 + Math.floor(Number(m[2]) / 4));
  return used;
}

function blockAddresses(block: number): { hostIp: string; edgeIp: string } {
  const third = Math.floor(block / 64);
  const base = (block % 64) * 4;
  return { hostIp: `10.214.${third}.${base + 1}`, edgeIp: `10.214.${third}.${base + 2}` };
}

/**
 * The /30 for edge `index`: the default state dir keeps 10.214.<index>.0/30; a tagged one
 * probes from a hash-chosen block for one no address on the host uses, skipping the x.0/30
 * blocks the default run takes.
 */
function chooseBlock(tag: string, index: number): number {
  if (tag === '') return index * 64;
  const used = usedBlocks();
  const start = (Number.parseInt(tag, 16) + index) % 16384;
  for (let k = 0; k < 16384; k++) {
    const b = (start + k) % 16384;
    if (b % 64 !== 0 && !used.has(b)) return b;
  }
  throw new Error('no free /30 left in 10.214.0.0/16 for a tether up edge');
}

/** Creates (or re-creates, after an unclean stop) the namespace of edge `index`. */
export function createNetns(tag: string, index: number): UpNetns {
  const names = upNetnsNames(tag, index);
  removeNetns(names);
  const n: UpNetns = { ...names, ...blockAddresses(chooseBlock(tag, index)) };
  ip('netns', 'add', n.ns);
  try {
    ip('link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', n.edgeIf);
    ip('link', 'set', n.edgeIf, 'netns', n.ns);
    ip('addr', 'add', `${n.hostIp}/30`, 'dev', n.hostIf);
    ip('link', 'set', n.hostIf, 'up');
    ip('-n', n.ns, 'addr', 'add', `${n.edgeIp}/30`, 'dev', n.edgeIf);
    ip('-n', n.ns, 'link', 'set', n.edgeIf, 'up');
    ip('-n', n.ns, 'link', 'set', 'lo', 'up');
  } catch (e) {
    removeNetns(n);
    throw e;
  }
  return n;
}

/** Whether this process may create namespaces (root, and `ip` present). */
export function netnsPossible(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    ip('netns', 'list');
    return true;
  } catch {
    return false;
  }
}
