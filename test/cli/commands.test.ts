/**
 * The `tether` command as a process (issue 11): --help with examples everywhere, one clear
 * sentence and a distinct exit code for each class of failure, `tether status` against a real
 * control plane and a metrics endpoint, `tether config validate` on files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, REPO_ROOT, startControlPlane, type ControlPlane } from '../support/controlplane.js';
import { freePort } from '../support/procs.js';
import { buildProgram } from '../../src/cli/program.js';
import type { Command } from 'commander';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: readonly string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, KUBECONFIG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs CLI processes a few at a time (each is a whole node start on a 2-core machine). */
async function runAll(all: readonly (readonly string[])[], env: Record<string, string> = {}): Promise<Ran[]> {
  const out: Ran[] = [];
  for (let i = 0; i < all.length; i += 3)
    out.push(...(await Promise.all(all.slice(i, i + 3).map((a) => run(a, env)))));
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'tether-cli-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('cli — commands and exit codes', () => {
  it('cli — every command has --help with examples', () => {
    const seen: string[] = [];
    const walk = (cmd: Command, path: string[]): void => {
      const subs = cmd.commands;
      if (subs.length > 0 && path.length > 0) {
        for (const c of subs) walk(c, [...path, c.name()]);
        return;
      }
      let text = '';
      cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
      cmd.outputHelp();
      seen.push(path.join(' '));
      expect(text, `tether ${path.join(' ')} --help`).toMatch(/Usage: tether/);
      expect(text, `tether ${path.join(' ')} --help`).toMatch(/\nExamples?:\n {2}(sudo )?tether /);
      if (path.length === 0) for (const c of subs) walk(c, [c.name()]);
    };
    walk(buildProgram(), []);
    expect(seen).toEqual(
      expect.arrayContaining([
        '',
        'up',
        'down',
        'cloud',
        'edge run',
        'edge join',
        'edge health',
        'token create',
        'token list',
        'token revoke',
        'node revoke',
        'status',
        'config validate',
        'config docs',
        'mapper',
      ]),
    );
  });

  it('cli — --help exits 0 and the top-level help lists the exit codes', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes \(every command\): 0 ok, 1 failed, 2 wrong usage/);
  }, 180_000);

  it('cli — wrong flags, an unreachable API or cloud, a config typo: one sentence each, distinct exit codes', async () => {
    const kc = join(dir, 'dead.kubeconfig');
    const port = await freePort();
    writeFileSync(
      kc,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const typo = join(dir, 'typo.yaml');
    writeFileSync(
      typo,
      'nodeName: e1\ncloud:\n  url: wss://c:1\n  certFile: /a\n  keyFile: /b\n  caFile: /c\npods:\n  criSockt: /x\n',
    );
    const hub = await freePort();
    const [flag, status, join_, edgeRun, validate, noKind] = await runAll([
      ['status', '--bogus'],
      ['status', '--kubeconfig', kc],
      [
        'edge',
        'join',
        '--cloud',
        `wss://127.0.0.1:${hub}`,
        '--token',
        'abcdef.0123456789abcdef',
        '--ca-cert-hash',
        `sha256:${'0'.repeat(64)}`,
        '--data-dir',
        join(dir, 'edge'),
        '--no-run',
      ],
      ['edge', 'run', '--config', typo],
      ['config', 'validate', typo],
      ['config', 'validate', kc],
    ]);
    expect(flag?.code).toBe(2);
    expect(flag?.stderr).toMatch(/unknown option '--bogus'/);

    expect(status?.code, status?.stderr).toBe(4);
    expect(status?.stderr.trim().split('\n')).toHaveLength(1);
    expect(status?.stderr).toMatch(
      new RegExp(
        `^tether: cannot reach the Kubernetes API at https://127.0.0.1:${port} \\(ECONNREFUSED\\): start it`,
      ),
    );

    expect(join_?.code, join_?.stderr).toBe(4);
    expect(join_?.stderr.trim().split('\n')).toHaveLength(1);
    expect(join_?.stderr).toMatch(
      /^tether: cannot reach the cloud at wss:\/\/127\.0\.0\.1:\d+.* — check --cloud/,
    );

    expect(edgeRun?.code).toBe(2);
    expect(edgeRun?.stderr).toContain(
      `${typo}:8:3: pods.criSockt: unknown key "criSockt" — did you mean "criSocket"?`,
    );
    expect(edgeRun?.stderr).toContain(`tether config validate ${typo}`);

    expect(validate?.code).toBe(1);
    expect(validate?.stderr).toContain(`${typo}:8:3: pods.criSockt: unknown key`);
    expect(validate?.stderr).toMatch(/1 problem in this edge configuration/);

    expect(noKind?.code).toBe(2);
    expect(noKind?.stderr).toMatch(/cannot tell whether .* is an edge or a cloud configuration: pass --kind/);
  }, 600_000);

  it('cli — config validate accepts a valid file (exit 0)', async () => {
    const f = join(dir, 'cloud.yaml');
    writeFileSync(f, 'kubeconfig: /etc/k\nhub:\n  port: 10350\nmetrics: { port: 9100 }\n');
    const r = await run(['config', 'validate', f]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('valid cloud configuration');
  }, 180_000);
});

describe('cli — tether status', () => {
  let cp: ControlPlane;
  let metrics: Server;
  let metricsUrl = '';

  beforeAll(async () => {
    cp = await startControlPlane();
    metrics = createServer((_q, res) => {
      res.end(
        '# TYPE tether_sync_queue_depth gauge\ntether_sync_queue_depth{node="st-a"} 7\ntether_hub_connected_nodes 1\n',
      );
    });
    const port = await freePort();
    await new Promise<void>((resolve) => metrics.listen(port, '127.0.0.1', resolve));
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const [name, ready, verdict] of [
      ['st-a', 'True', 'Healthy'],
      ['st-b', 'Unknown', 'Degraded'],
    ] as const) {
      writeFileSync(
        join(dir, `${name}.json`),
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name, labels: { 'node-role.kubernetes.io/edge': '' } },
        }),
      );
      await kubectl(cp, ['create', '-f', join(dir, `${name}.json`)]);
      await kubectl(cp, [
        'patch',
        'node',
        name,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            conditions: [
              { type: 'Ready', status: ready, reason: 'X', lastHeartbeatTime: now, lastTransitionTime: now },
              {
                type: 'EdgeHealthy',
                status: verdict === 'Healthy' ? 'True' : 'False',
                reason: verdict,
                message: 'cpu=01',
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
            ],
          },
        }),
      ]);
    }
  }, 600_000);

  afterAll(async () => {
    await new Promise((r) => metrics.close(r));
    await cp.stop();
  });

  it('cli — status shows each edge node online or offline, its verdict and queue; exit 3 when one is not well', async () => {
    const [json, table, noMetrics] = await runAll(
      [
        ['status', '-o', 'json', '--metrics-url', metricsUrl],
        ['status', '--metrics-url', metricsUrl],
        ['status', '--metrics-url', 'http://127.0.0.1:1/metrics'],
      ],
      { KUBECONFIG: cp.kubeconfigPath },
    );
    expect(json?.code, json?.stderr).toBe(3);
    const f = JSON.parse(json?.stdout ?? '') as {
      nodes: { name: string; online: boolean; health: { verdict: string }; queueDepth: number | null }[];
      metrics: { reachable: boolean; connectedNodes: number };
      summary: { nodes: number; online: number; healthy: number };
    };
    expect(f.nodes.map((n) => [n.name, n.online, n.health.verdict, n.queueDepth])).toEqual([
      ['st-a', true, 'Healthy', 7],
      ['st-b', false, 'Degraded', 0],
    ]);
    expect(f.metrics).toMatchObject({ reachable: true, connectedNodes: 1 });
    expect(f.summary).toMatchObject({ nodes: 2, online: 1, healthy: 1 });

    expect(table?.code).toBe(3);
    expect(table?.stdout).toMatch(/^NODE\s+STATE\s+SINCE\s+LEASE\s+HEALTH\s+DEVICES\s+QUEUE/);
    expect(table?.stdout).toMatch(/st-a\s+Online\s+\S+\s+-\s+Healthy\s+0\/0 online\s+7/);
    expect(table?.stdout).toMatch(/st-b\s+Offline/);
    expect(table?.stdout).toContain('1/2 nodes online, 1/2 healthy');

    // an unreachable metrics endpoint never fails the command: queues are "unknown"
    expect(noMetrics?.code).toBe(3);
    expect(noMetrics?.stdout).toMatch(/st-a\s+Online.*unknown/);
    expect(noMetrics?.stdout).toMatch(
      /queues unknown: cloud metrics at http:\/\/127\.0\.0\.1:1\/metrics not reachable/,
    );
  }, 600_000);
});
