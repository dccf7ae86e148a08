/**
 * `tether token …`, `tether edge join`, `tether node revoke` as real processes (issue 5, issue 11):
 * a real `tether cloud` process against the control-plane harness, real edges joining over TLS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { CertificateAuthority, sleep } from '../../src/common/index.js';
import { kubeConfigFor, REPO_ROOT, startControlPlane, type ControlPlane } from '../support/controlplane.js';
import { freePort } from '../support/procs.js';

/** The CLI entry; TETHER_CLI_MAIN lets a test run point at another build of it. */
const ENTRY = process.env['TETHER_CLI_MAIN'] ?? join(REPO_ROOT, 'src/cli/main.ts');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

interface Daemon {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function start(args: readonly string[]): Daemon {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, KUBECONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function run(args: readonly string[], timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, KUBECONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const JOIN_RE =
  /^tether edge join --cloud (wss:\/\/127\.0\.0\.1:\d+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --ca-cert-hash (sha256:[0-9a-f]{64})( --node-name [a-z0-9.-]+)?$/;

describe('cli — token, edge join, node revoke against a tether cloud process', () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  let dir: string;
  let cloud: Daemon;
  let cloudUrl: string;
  const daemons: Daemon[] = [];

  const tether = (args: readonly string[]): Promise<Ran> => run([...args, '--kubeconfig', cp.kubeconfigPath]);
  const create = async (
    ...extra: string[]
  ): Promise<{ command: string; url: string; token: string; pin: string }> => {
    const r = await tether(['token', 'create', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    const command = r.stdout.trim();
    const m = JOIN_RE.exec(command);
    expect(m, command).not.toBeNull();
    return { command, url: m?.[1] ?? '', token: m?.[2] ?? '', pin: m?.[3] ?? '' };
  };
  const joinArgs = (
    t: { url: string; token: string; pin: string },
    node: string,
    ...extra: string[]
  ): string[] => [
    'edge',
    'join',
    '--cloud',
    t.url,
    '--token',
    t.token,
    '--ca-cert-hash',
    t.pin,
    '--node-name',
    node,
    '--data-dir',
    join(dir, node),
    '--log-level',
    'info',
    ...extra,
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-cli-join-'));
    cp = await startControlPlane();
    core = kubeConfigFor(cp).makeApiClient(CoreV1Api);
    const port = await freePort();
    cloudUrl = `wss://127.0.0.1:${port}`;
    const cfg = join(dir, 'cloud.yaml');
    writeFileSync(
      cfg,
      [
        `kubeconfig: ${cp.kubeconfigPath}`,
        'hub:',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        '  keepaliveMs: 1000',
        'bootstrap:',
        '  revocationRefreshMs: 300',
        'logLevel: warn',
      ].join('\n'),
    );
    cloud = start(['cloud', '--config', cfg]);
    await until('the cloud to listen', () =>
      Promise.resolve(cloud.output().includes('hub listening') ? true : undefined),
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}; cloud output:\n${cloud.output()}`);
    });
  });

  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await cloud.stop();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cli — token create prints a join command; edge join with it joins, writes its files, and the Node appears; node revoke shuts it out until a bound token rejoins it', async () => {
    const t = await create('--description', 'first edge');
    expect(t.url).toBe(cloudUrl);
    const edge = start(joinArgs(t, 'edge-a'));
    daemons.push(edge);
    const node = await until(
      'Node edge-a in the API',
      async () => (await core.readNode({ name: 'edge-a' })).metadata,
    );
    expect(node.name).toBe('edge-a');
    const cfgFile = join(dir, 'edge-a', 'edge.yaml');
    expect(readFileSync(cfgFile, 'utf8')).toContain('nodeName: edge-a');
    expect(statSync(join(dir, 'edge-a', 'pki', 'node.key')).mode & 0o777).toBe(0o600);

    // A second join of the same data dir is refused without --force, before anything is sent.
    const again = await run(joinArgs(t, 'edge-a', '--no-run'));
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already joined');

    const revoked = await tether(['node', 'revoke', 'edge-a']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('tether token create --node edge-a');
    // The hub closes the live session; the edge's reconnects are refused with the reason.
    await until('the edge to be refused as revoked', () =>
      Promise.resolve(/certificate of node edge-a was revoked/.test(edge.output()) ? true : undefined),
    );
    await edge.stop();

    // Node edge-a exists, so an unbound token may not take it over ...
    const unbound = await create();
    const taken = await run(joinArgs(unbound, 'edge-a', '--no-run', '--force'));
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('node edge-a already exists');
    // ... a token bound to it may, and the rejoined edge comes online.
    const bound = await create('--node', 'edge-a', '--uses', '1');
    expect(bound.command).toContain('--node-name edge-a');
    const rejoined = start(joinArgs(bound, 'edge-a', '--force'));
    daemons.push(rejoined);
    await until('the rejoined edge online', () =>
      Promise.resolve(rejoined.output().includes('link online') ? true : undefined),
    );
    expect(rejoined.output()).not.toMatch(/was revoked/);
    await rejoined.stop();
  }, 240_000);

  it('cli — an expired token makes edge join exit non-zero with one clear sentence', async () => {
    const r = await tether(['token', 'create', '--ttl', '1s', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout) as {
      token: string;
      cloud: string;
      caCertHash: string;
      joinCommand: string;
    };
    expect(t.joinCommand).toContain(t.token);
    await sleep(1500);
    const j = await run(
      joinArgs({ url: t.cloud, token: t.token, pin: t.caCertHash }, 'edge-late', '--no-run'),
    );
    expect(j.code).toBe(5); // refused (docs/operations.md exit codes)
    const lines = j.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^tether: the cloud refused the join \(HTTP 401\): token [a-z0-9]{6} expired at /,
    );
    expect(existsSync(join(dir, 'edge-late', 'edge.yaml'))).toBe(false);
  }, 300_000);

  it('cli — a wrong --ca-cert-hash is refused before the token is sent', async () => {
    const t = await create();
    const wrong = await run(joinArgs({ ...t, pin: `sha256:${'0'.repeat(64)}` }, 'edge-pin', '--no-run'));
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain('nothing was sent');

    // An impostor hub presenting another CA: the join stops at the pin, no HTTP request arrives.
    const ca = await CertificateAuthority.create('impostor-ca');
    const serving = await ca.issueServer('impostor', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    let requests = 0;
    const impostor: Server = createServer(
      { cert: serving.certPem + ca.certPem, key: serving.keyPem },
      (_q, res) => {
        requests++;
        res.end('{}');
      },
    );
    const port = await freePort();
    await new Promise<void>((resolve) => impostor.listen(port, '127.0.0.1', resolve));
    try {
      const r = await run(joinArgs({ ...t, url: `wss://127.0.0.1:${port}` }, 'edge-pin', '--no-run'));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/not the --ca-cert-hash .* nothing was sent/);
      expect(requests).toBe(0);
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
    }
    // The token is still good: the pinned join with it works.
    const ok = await run(joinArgs(t, 'edge-pin', '--no-run'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('start it with: tether edge run --config');
  }, 300_000);

  it('cli — token list never shows secrets; token revoke makes the token refused', async () => {
    const t = await create('--description', 'to revoke', '--uses', '3');
    const [id, secret] = t.token.split('.');
    const listed = await tether(['token', 'list', '-o', 'json']);
    expect(listed.code, listed.stderr).toBe(0);
    const items = JSON.parse(listed.stdout) as Record<string, unknown>[];
    const mine = items.find((i) => i['id'] === id);
    expect(mine).toMatchObject({ description: 'to revoke', uses: 0, maxUses: 3, expired: false });
    expect(listed.stdout).not.toContain(secret);
    for (const i of items) expect(Object.keys(i).sort()).not.toContain('token');
    const text = await tether(['token', 'list']);
    expect(text.stdout).toContain(id);
    expect(text.stdout).not.toContain(secret);

    const rv = await tether(['token', 'revoke', id ?? '']);
    expect(rv.code, rv.stderr).toBe(0);
    expect(rv.stdout).toContain(`token ${id} revoked`);
    const j = await run(joinArgs(t, 'edge-rv', '--no-run'));
    expect(j.code).toBe(5);
    expect(j.stderr).toContain('does not exist or was revoked');
    const twice = await tether(['token', 'revoke', id ?? '']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`there is no join token ${id}`);
  }, 300_000);

  it('cli — wrong flags get readable errors and the usage exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['token', 'create', '--ttl', '5x'], /option '--ttl <duration>' argument '5x' is invalid/],
      [['token', 'create', '--uses', '0'], /option '--uses <n>' argument '0' is invalid/],
      [['token', 'create', '--node', 'Bad_Name'], /option '--node <name>' argument 'Bad_Name' is invalid/],
      [['token', 'list', '-o', 'yaml'], /Allowed choices are text, json/],
      [['token', 'revoke'], /missing required argument 'id'/],
      [['token', 'create', '--bogus'], /unknown option '--bogus'/],
      [['edge', 'join', '--cloud', cloudUrl], /required option '--token <token>' not specified/],
      [
        [
          'edge',
          'join',
          '--cloud',
          'http://x',
          '--token',
          'abcdef.0123456789abcdef',
          '--ca-cert-hash',
          'sha256:00',
        ],
        /option '--cloud <url>' argument 'http:\/\/x' is invalid/,
      ],
      [
        [
          'edge',
          'join',
          '--cloud',
          cloudUrl,
          '--token',
          'abcdef.0123456789abcdef',
          '--ca-cert-hash',
          'md5:1',
        ],
        /option '--ca-cert-hash <hash>' argument 'md5:1' is invalid/,
      ],
      [['node', 'revoke'], /missing required argument 'name'/],
    ];
    // Two at a time: each is a whole CLI process start on a 2-core machine.
    for (let i = 0; i < cases.length; i += 2) {
      const batch = cases.slice(i, i + 2);
      const results = await Promise.all(batch.map(([args]) => run(args)));
      batch.forEach(([args, re], k) => {
        expect(results[k]?.code, args.join(' ')).toBe(2);
        expect(results[k]?.stderr, args.join(' ')).toMatch(re);
      });
    }
  }, 300_000);
});
