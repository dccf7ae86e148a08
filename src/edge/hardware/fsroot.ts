import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Read-only access to a machine's files under a root ('/' on a real host, a fixture
 * directory in tests). Discovery never shells out (DESIGN §6: discovery reads files), and a
 * missing or unreadable file is normal on some machines, so every reader answers
 * `undefined` instead of throwing.
 */
export class FsRoot {
  constructor(readonly root: string) {}

  /** Absolute path of `p` (an absolute in-machine path such as '/proc/cpuinfo') under the root. */
  resolve(p: string): string {
    return path.join(this.root, p);
  }

  async text(p: string): Promise<string | undefined> {
    try {
      return await readFile(this.resolve(p), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** First line, trimmed, with device-tree NUL terminators removed; undefined when empty. */
  async line(p: string): Promise<string | undefined> {
    const t = await this.text(p);
    if (t === undefined) return undefined;
    const v = t.replace(/\0+$/u, '').split('\n')[0]?.replace(/\0/gu, ' ').trim();
    return v === undefined || v === '' ? undefined : v;
  }

  /** Device-tree string lists (`compatible`) are NUL-separated. */
  async nulList(p: string): Promise<string[]> {
    const t = await this.text(p);
    if (t === undefined) return [];
    return t
      .split('\0')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  async list(p: string): Promise<string[]> {
    try {
      return (await readdir(this.resolve(p))).sort();
    } catch {
      return [];
    }
  }

  async exists(p: string): Promise<boolean> {
    try {
      await stat(this.resolve(p));
      return true;
    } catch {
      return false;
    }
  }
}

/** `KEY=value` lines (os-release, uevent); quotes around values are removed. */
export function parseKeyValue(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (text === undefined) return out;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let v = line.slice(eq + 1).trim();
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1);
    out.set(line.slice(0, eq).trim(), v);
  }
  return out;
}
