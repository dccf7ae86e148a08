import { execFileSync } from 'node:child_process';

/**
 * Network namespaces for the extra edges of `tether up --edges N` (issue 11): edge i lives in
 * `tether-up-<i>`, joined to this host by a veth pair on 10.214.<i>.0/30 (host .1, edge .2), so
 * cutting its link (`ip link set tup<i>h down`) is a real outage (DESIGN §9). Names are fixed per
 * index so a re-run or `tether down` finds what an earlier run left.
 */
export interface UpNetns {
  readonly index: number;
  readonly ns: string;
  /** the host side of the veth: `ip link set <hostIf> down` cuts the edge off */
  readonly hostIf: string;
  readonly hostIp: string;
  readonly edgeIp: string;
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: 'pipe' });

export function upNetns(index: number): UpNetns {
  if (!Number.isInteger(index) || index < 1 || index > 250)
    throw new RangeError(`edge index ${index} out of 1..250`);
  return {
    index,
    ns: `tether-up-${index}`,
    hostIf: `tup${index}h`,
    hostIp: `10.214.${index}.1`,
    edgeIp: `10.214.${index}.2`,
  };
}

/** Removes the namespace and its veth if they exist (idempotent). */
export function removeNetns(n: UpNetns): void {
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

/** Creates (or re-creates, after an unclean stop) the namespace of edge `index`. */
export function createNetns(index: number): UpNetns {
  const n = upNetns(index);
  removeNetns(n);
  const edgeIf = `tup${index}e`;
  ip('netns', 'add', n.ns);
  try {
    ip('link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', edgeIf);
    ip('link', 'set', edgeIf, 'netns', n.ns);
    ip('addr', 'add', `${n.hostIp}/30`, 'dev', n.hostIf);
    ip('link', 'set', n.hostIf, 'up');
    ip('-n', n.ns, 'addr', 'add', `${n.edgeIp}/30`, 'dev', edgeIf);
    ip('-n', n.ns, 'link', 'set', edgeIf, 'up');
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
