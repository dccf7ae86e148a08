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

export function createEdgeHost(): EdgeHost {
  const id = randomBytes(2);
  const tag = id.toString('hex');
  const ns = `tether-e2e-${tag}`;
  const hostIf = `tth${tag}`;
  const edgeIf = `tte${tag}`;
  const subnet = `10.213.${id[0] ?? 0}`;
  const octet = ((id[1] ?? 0) % 63) * 4;
  const hostIp = `${subnet}.${octet + 1}`;
  const edgeIp = `${subnet}.${octet + 2}`;
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
