/**
 * An edge host of its own: a network namespace joined to the test host by a veth pair, so a
 * cut link is a real event (DESIGN §9). Addresses come from 10.213.0.0/16, used only by these
 * namespaces; everything is removed on `remove()`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface EdgeHost {
  readonly ns: string;
  /** Address of the test host on this link (where the cloud listens). */
  readonly hostIp: string;
  /** Address of the edge inside its namespace. */
  readonly edgeIp: string;
  cut(): void;
  restore(): void;
  remove(): void;
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

export function netnsAvailable(): boolean {
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

/**
 * Random names and a random /30, re-drawn while either is taken on this host: test files run in
 * parallel (and two test runs may share the host), and a duplicate name or address would join
 * two tests' edges.
 */
function pick(): { ns: string; hostIf: string; edgeIf: string; hostIp: string; edgeIp: string } {
  const namespaces = new Set(
    ip('netns', 'list')
      .split('\n')
      .map((l) => l.split(' ')[0] ?? ''),
  );
  const links = ip('-o', 'link', 'show');
  const addrs = ip('-o', '-4', 'addr', 'show');
  for (;;) {
    const id = randomBytes(2);
    const tag = id.toString('hex');
    const subnet = `10.213.${id[0] ?? 0}`;
    const octet = ((id[1] ?? 0) % 63) * 4;
    const p = {
      ns: `tether-e2e-${tag}`,
      hostIf: `tth${tag}`,
      edgeIf: `tte${tag}`,
      hostIp: `${subnet}.${octet + 1}`,
      edgeIp: `${subnet}.${octet + 2}`,
    };
    if (namespaces.has(p.ns) || links.includes(` ${p.hostIf}`) || links.includes(` ${p.edgeIf}`)) continue;
    if (addrs.includes(`inet ${subnet}.${octet + 1}/`) || addrs.includes(`inet ${subnet}.${octet + 2}/`))
      continue;
    return p;
  }
}

export function createEdgeHost(): EdgeHost {
  const { ns, hostIf, edgeIf, hostIp, edgeIp } = pick();
  ip('netns', 'add', ns);
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', edgeIf);
    ip('link', 'set', edgeIf, 'netns', ns);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'addr', 'add', `${edgeIp}/30`, 'dev', edgeIf);
    ip('-n', ns, 'link', 'set', edgeIf, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (e) {
    try {
      ip('link', 'del', hostIf);
    } catch {
      /* not created */
    }
    ip('netns', 'del', ns);
    throw e;
  }
  return {
    ns,
    hostIp,
    edgeIp,
    cut: () => ip('link', 'set', hostIf, 'down'),
    restore: () => ip('link', 'set', hostIf, 'up'),
    remove: () => {
      try {
        ip('link', 'del', hostIf);
      } catch {
        /* gone with the namespace */
      }
      ip('netns', 'del', ns);
    },
  };
}
