/**
 * bin/tether picks the built CLI (dist/, plain node) only when dist/ was built from exactly the
 * sources present (issue 12: the agent without tsx; a stale build must never run). Exercised on a
 * small throw-away tree with the real bin/tether, the real tsc build (`--build`) and the project's
 * node_modules linked in: the program prints which copy ran.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/controlplane.js';

const dir = mkdtempSync(join(tmpdir(), 'tether-bin-'));

function tether(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [join(dir, 'bin/tether'), ...args],
      { env: { ...process.env, NODE_ENV: '', TETHER_FROM_SOURCE: '', ...env }, timeout: 170_000 },
      (e, stdout, stderr) => {
        resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, out: stdout + stderr });
      },
    );
  });
}

/** Which copy ran: the compiled one says so through import.meta.url. */
const which = async (env: Record<string, string> = {}): Promise<string> => {
  const r = await tether(['hello'], env);
  expect(r.code, r.out).toBe(0);
  return r.out.trim();
};

beforeAll(() => {
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'src/cli'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'bin/tether'), join(dir, 'bin/tether'));
  copyFileSync(join(REPO_ROOT, 'tsconfig.build.json'), join(dir, 'tsconfig.build.json'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'nodenext', strict: true, types: ['node'], noEmit: true },
      include: ['src'],
    }),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(
    join(dir, 'src/cli/main.ts'),
    "import { greeting } from './greeting.js';\nconsole.log(`${greeting()} from ${import.meta.url.includes('/dist/') ? 'dist' : 'src'}`);\n",
  );
  writeFileSync(join(dir, 'src/cli/greeting.ts'), "export const greeting = (): string => 'v1';\n");
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('cli — bin/tether runs dist/ only when it matches the sources', () => {
  it('cli — sources until built; the build after --build; the sources again after any edit, deletion or older mtime', async () => {
    expect(await which()).toBe('v1 from src');

    const b = await tether(['--build']);
    expect(b.code, b.out).toBe(0);
    expect(await which()).toBe('v1 from dist');
    expect(await which({ TETHER_FROM_SOURCE: '1' })).toBe('v1 from src');

    // an added file changes the manifest, and so does removing it again (the directory's mtime)
    writeFileSync(join(dir, 'src/cli/extra.ts'), 'export const x = 1;\n');
    expect(await which()).toBe('v1 from src');
    unlinkSync(join(dir, 'src/cli/extra.ts'));
    expect(await which()).toBe('v1 from src');

    // an edit: the new code runs (from the sources), never the old build
    writeFileSync(join(dir, 'src/cli/greeting.ts'), "export const greeting = (): string => 'v2';\n");
    expect(await which()).toBe('v2 from src');
    expect((await tether(['--build'])).code).toBe(0);
    expect(await which()).toBe('v2 from dist');

    // a file restored with an OLDER mtime (cp -p, tar, rsync -t) still differs from the manifest
    writeFileSync(join(dir, 'src/cli/greeting.ts'), "export const greeting = (): string => 'v3';\n");
    utimesSync(join(dir, 'src/cli/greeting.ts'), new Date('2020-01-01'), new Date('2020-01-01'));
    expect(await which()).toBe('v3 from src');
  }, 600_000);

  it('cli — a failed build leaves no usable dist/ for the new sources', async () => {
    writeFileSync(
      join(dir, 'src/cli/greeting.ts'),
      "export const greeting = (): number => 'not a number';\n",
    );
    const b = await tether(['--build']);
    expect(b.code).not.toBe(0);
    // the type error is tsc's: the old dist/ stays, but its manifest names other sources
    const r = await tether(['hello']);
    expect(r.out).not.toContain('from dist');
  }, 300_000);
});
