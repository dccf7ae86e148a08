import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

/**
 * Runs the project's real ESLint configuration on probe files placed inside src/<component>,
 * so the test proves the rule exactly as CI runs it (DESIGN §1 dependency rule).
 */
const probes = {
  edgeImportsCloud: ['edge', "export * from '../../cloud/index.js';\n"],
  edgeImportsApiserver: ['edge', "export * from '../../apiserver/index.js';\n"],
  cloudImportsEdge: ['cloud', "export * from '../../edge/index.js';\n"],
  protocolImportsCommon: ['protocol', "export * from '../../common/index.js';\n"],
  edgeUsesKubeClient: ['edge', "export { KubeConfig } from '@kubernetes/client-node';\n"],
  edgeImportsCommon: ['edge', "export { assertNever } from '../../common/index.js';\n"],
} as const;
type Probe = keyof typeof probes;

const dirs: string[] = [];
const messages = new Map<Probe, string[]>();

beforeAll(async () => {
  const files = new Map<string, Probe>();
  for (const [name, [component, source]] of Object.entries(probes) as [Probe, readonly [string, string]][]) {
    const dir = mkdtempSync(join(root, 'src', component, 'lint-probe-'));
    dirs.push(dir);
    const file = join(dir, 'probe.ts');
    writeFileSync(file, source);
    files.set(file, name);
  }
  let stdout: string;
  try {
    stdout = (await run('npx', ['eslint', '-f', 'json', ...files.keys()], { cwd: root, maxBuffer: 1 << 24 }))
      .stdout;
  } catch (e) {
    stdout = (e as { stdout: string }).stdout; // eslint exits 1 when it finds errors
  }
  for (const r of JSON.parse(stdout) as {
    filePath: string;
    messages: { ruleId: string | null; message: string }[];
  }[]) {
    const name = files.get(r.filePath);
    if (name !== undefined)
      messages.set(
        name,
        r.messages.map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`),
      );
  }
}, 60_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('lint — component boundaries', () => {
  it.each([
    ['edgeImportsCloud', "tether/boundaries: 'edge' must not import 'cloud'"],
    ['edgeImportsApiserver', "tether/boundaries: 'edge' must not import 'apiserver'"],
    ['cloudImportsEdge', "tether/boundaries: 'cloud' must not import 'edge'"],
    ['protocolImportsCommon', "tether/boundaries: 'protocol' must not import 'common'"],
    ['edgeUsesKubeClient', "tether/boundaries: 'edge' must not import the package '@kubernetes/client-node'"],
  ] as const)('lint — %s fails the build', (probe, expected) => {
    expect(messages.get(probe)?.join('\n')).toContain(expected);
  });

  it('lint — edge importing common is allowed', () => {
    expect(messages.get('edgeImportsCommon')).toEqual([]);
  });
});
