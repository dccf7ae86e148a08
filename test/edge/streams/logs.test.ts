import { mkdtemp, rm, writeFile, appendFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CriLogReader,
  parseCriLine,
  parseTimestamp,
  type LogReadOptions,
} from '../../../src/edge/streams/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-streams-logs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T = (s: number, frac = '000000000'): string =>
  `2026-11-26T10:00:${String(s).padStart(2, '0')}.${frac}Z`;

/** A CRI log as containerd writes it: full lines, a partial one split in two, a stderr line. */
const SAMPLE =
  [
    `${T(1, '100000000')} stdout F one`,
    `${T(2, '123456789')} stderr F two`,
    `${T(3)} stdout P par`,
    `${T(3, '500000000')} stdout F tial`,
    `not a cri line`,
    `${T(4)} stdout F `,
    `${T(5)} stdout F five`,
  ].join('\n') + '\n';

async function readAll(file: string, o: Partial<LogReadOptions> = {}): Promise<string> {
  const r = new CriLogReader(file, { follow: false, timestamps: false, ...o });
  await r.open();
  const parts: Buffer[] = [];
  for (;;) {
    const c = await r.read(7); // small reads: output must not depend on the read size
    parts.push(c.data);
    if (c.done) break;
  }
  await r.close();
  return Buffer.concat(parts).toString('utf8');
}

describe('edge/streams CRI log reader', () => {
  it('edge/streams — formats messages like kubelet: F adds a newline, P does not, malformed lines skipped', async () => {
    const f = path.join(dir, 'a.log');
    await writeFile(f, SAMPLE);
    expect(await readAll(f)).toBe('one\ntwo\npartial\n\nfive\n');
  });

  it('edge/streams — timestamps are RFC3339Nano as Go prints them (trailing zeros trimmed)', async () => {
    const f = path.join(dir, 'b.log');
    await writeFile(f, SAMPLE);
    const out = await readAll(f, { timestamps: true });
    expect(out.split('\n').slice(0, 3)).toEqual([
      '2026-11-26T10:00:01.1Z one',
      '2026-11-26T10:00:02.123456789Z two',
      '2026-11-26T10:00:03Z par2026-11-26T10:00:03.5Z tial',
    ]);
    expect(parseTimestamp('2026-11-26T10:00:03+00:00')?.text).toBe('2026-11-26T10:00:03Z');
    expect(parseTimestamp('yesterday')).toBeUndefined();
  });

  it('edge/streams — tail counts raw file lines from the end; 0 gives nothing', async () => {
    const f = path.join(dir, 'c.log');
    await writeFile(f, SAMPLE);
    expect(await readAll(f, { tailLines: 2 })).toBe('\nfive\n');
    expect(await readAll(f, { tailLines: 4 })).toBe('tial\n\nfive\n');
    expect(await readAll(f, { tailLines: 0 })).toBe('');
    expect(await readAll(f, { tailLines: 1000 })).toBe('one\ntwo\npartial\n\nfive\n');
  });

  it('edge/streams — since drops older entries (ns precision); limitBytes cuts exactly', async () => {
    const f = path.join(dir, 'd.log');
    await writeFile(f, SAMPLE);
    const since = parseTimestamp(T(2, '123456789'))?.ns;
    expect(await readAll(f, { sinceNs: since })).toBe('two\npartial\n\nfive\n');
    expect(await readAll(f, { sinceNs: (since ?? 0n) + 1n })).toBe('partial\n\nfive\n');
    expect(await readAll(f, { limitBytes: 6 })).toBe('one\ntw');
    expect(await readAll(f, { limitBytes: 4 })).toBe('one\n');
  });

  it('edge/streams — parseCriLine accepts extra tags and an empty message', () => {
    expect(parseCriLine(Buffer.from(`${T(1)} stdout F:x hi there`))?.msg.toString()).toBe('hi there');
    expect(parseCriLine(Buffer.from(`${T(1)} stdout F`))?.msg.length).toBe(0);
    expect(parseCriLine(Buffer.from(`${T(1)} stdin F x`))).toBeUndefined();
    expect(parseCriLine(Buffer.from(`${T(1)} stdout X x`))).toBeUndefined();
  });

  it('edge/streams — follow continues across rotation (0.log renamed, a new 0.log) and ends when the container stops', async () => {
    const f = path.join(dir, 'rot.log');
    await writeFile(f, `${T(1)} stdout F before\n`);
    let running = true;
    const r = new CriLogReader(f, {
      follow: true,
      timestamps: false,
      pollMs: 20,
      runningCheckMs: 20,
      isRunning: () => Promise.resolve(running),
    });
    await r.open();
    const got: string[] = [];
    let done = false;
    const loop = (async () => {
      while (!done) {
        const c = await r.read(1024);
        got.push(c.data.toString());
        done = c.done;
      }
    })();
    const until = async (s: string): Promise<void> => {
      for (let i = 0; i < 500 && !got.join('').includes(s); i++) await new Promise((x) => setTimeout(x, 20));
      expect(got.join('')).toContain(s);
    };
    await until('before\n');
    await appendFile(f, `${T(2)} stdout F appended\n${T(3)} stdout P half-\n`);
    await until('appended\n');
    await appendFile(f, `${T(3)} stdout F line\n`);
    await rename(f, `${f}.20261126-100003`);
    await writeFile(f, `${T(4)} stdout F rotated\n`);
    await until('rotated\n');
    running = false;
    await loop;
    await r.close();
    expect(got.join('')).toBe('before\nappended\nhalf-line\nrotated\n');
  });
});
