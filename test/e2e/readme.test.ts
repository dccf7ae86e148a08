/**
 * The README's walkthrough, run as written (issue 11 "so the docs cannot rot"): the ```sh walkthrough
 * blocks are extracted from README.md and each line runs in bash, in order, against a real
 * `tether up --edges 1` (its own state dir and free ports). A line passes when it exits 0 and,
 * if it ends with `# → text`, its output contains that text. Substituted: the default state dir
 * (/var/lib/tether/up) by the test's, the default state dir's namespace and veth names
 * (`tether-up-1`, `tup1h`) by the ones `up` derives from the test's state dir (src/cli/netns.ts),
 * `sudo` by a no-op (the suite runs as root).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upNetnsNames, upTag } from '../../src/cli/netns.js';
import { REPO_ROOT } from '../support/controlplane.js';
import { freePort, tether, type Proc } from '../support/procs.js';

interface WalkLine {
  command: string;
  /** text the output must contain (`# → text`) */
  expect: string | undefined;
}

/** The lines of every ```sh walkthrough block, in order. */
function walkthrough(md: string): WalkLine[] {
  const out: WalkLine[] = [];
  const re = /^```sh walkthrough\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(md); m !== null; m = re.exec(md))
    for (const line of (m[1] ?? '').split('\n')) {
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      const c = /^(.*?)\s+#\s(.*)$/.exec(line);
      const comment = c?.[2]?.trim();
      out.push({
        command: (c?.[1] ?? line).trim(),
        expect: comment?.startsWith('→ ') === true ? comment.slice(2).trim() : undefined,
      });
    }
  return out;
}

function bash(
  command: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `sudo() { "$@"; }\n${command}`], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

describe('readme — the walkthrough', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-readme-'));
  const state = join(dir, 'up');
  let up: Proc | undefined;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    // free ports for everything on the host's loopback, so a real `tether up` or another test can run beside it
    const [api, hub, metrics, bus, edgeApi, streams] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    up = tether([
      'up',
      '--no-setup',
      '--state-dir',
      state,
      '--api-port',
      String(api),
      '--hub-port',
      String(hub),
      '--metrics-port',
      String(metrics),
      '--bus-port',
      String(bus),
      '--edge-api-port',
      String(edgeApi),
      '--streams-port',
      String(streams),
      '--edges',
      '1',
      '--log-level',
      'warn',
    ]);
    const deadline = Date.now() + 240_000;
    while (!up.output().includes('Tether is up.')) {
      if (up.child.exitCode !== null) throw new Error(`tether up exited:\n${up.output()}`);
      if (Date.now() > deadline) throw new Error(`tether up did not finish:\n${up.output()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    env['KUBECONFIG'] = join(state, 'apiserver', 'admin.kubeconfig');
    env['TETHER_METRICS_URL'] = `http://127.0.0.1:${metrics}/metrics`;
  }, 300_000);

  afterAll(async () => {
    await up?.kill('SIGTERM');
    // removes the namespace, the edges' pods on the project's containerd and the state
    const down = tether(['down', '--state-dir', state]);
    await new Promise((r) => down.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('readme — the walkthrough blocks are found, with expectations', () => {
    const lines = walkthrough(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
    expect(lines.length).toBeGreaterThanOrEqual(15);
    expect(lines.filter((l) => l.expect !== undefined).length).toBeGreaterThanOrEqual(8);
    expect(lines.map((l) => l.command)).toContain('kubectl rollout undo deploy/web');
  });

  it('readme — a second tether up on the same state dir is refused with what to do (safe to re-run)', async () => {
    const again = tether(['up', '--no-setup', '--state-dir', state, '--api-port', String(await freePort())]);
    const code = await new Promise<number | null>((r) => again.child.once('exit', r));
    expect(code).toBe(1);
    expect(again.output()).toMatch(/tether up is already running \(pid \d+\) with .*: use it .* or stop it/);
  }, 120_000);

  it('readme — tether up starts without device-bus publish warnings', () => {
    // mqtt.js calls a successful QoS 1 publish back with null; that was logged as a failure
    // ("bus publish failed err: null", src/edge/devices/bus.ts).
    expect(up?.output()).toContain('Tether is up.');
    expect(up?.output()).not.toMatch(/bus publish failed/);
  });

  it('readme — every walkthrough command works as written against a real tether up', async () => {
    const lines = walkthrough(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
    for (const l of lines) {
      const mine = upNetnsNames(upTag(state), 1);
      const command = l.command
        .replaceAll('/var/lib/tether/up', state)
        .replaceAll(/\btether-up-1\b/g, mine.ns)
        .replaceAll(/\btup1h\b/g, mine.hostIf);
      const r = await bash(command, env, 240_000);
      const where = `README walkthrough: ${l.command}\n${r.out}\n--- tether up:\n${up?.output().slice(-3000) ?? ''}`;
      expect(r.code, where).toBe(0);
      if (l.expect !== undefined) expect(r.out, where).toContain(l.expect);
    }
  }, 900_000);
});
