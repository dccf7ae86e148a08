/**
 * Shared harness of the API server tests: a real server on an ephemeral port with a temp
 * data dir, raw HTTPS requests as the admin (client certificate) or with a token, and the
 * real kubectl binaries.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startApiServer,
  type ApiServerConfigInput,
  type StartedApiServer,
} from '../../src/apiserver/index.js';

export interface TestServer extends StartedApiServer {
  dir: string;
  caPem: string;
  adminCert: string;
  adminKey: string;
  /** A HOME for kubectl so its discovery cache is per test server. */
  home: string;
}

export async function startTestServer(config: Partial<ApiServerConfigInput> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-apiserver-'));
  const s = await startApiServer({
    dataDir: join(dir, 'data'),
    watch: { bookmarkIntervalMs: 300 },
    ...config,
  });
  const home = join(dir, 'home');
  mkdirSync(home);
  const pki = join(dir, 'data', 'pki');
  return {
    ...s,
    dir,
    home,
    caPem: readFileSync(join(pki, 'ca.crt'), 'utf8'),
    // Without TLS the admin authenticates with a token, and there is no admin certificate.
    adminCert: existsSync(join(pki, 'admin.crt')) ? readFileSync(join(pki, 'admin.crt'), 'utf8') : '',
    adminKey: existsSync(join(pki, 'admin.key')) ? readFileSync(join(pki, 'admin.key'), 'utf8') : '',
    stop: async () => {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Bearer token instead of the admin certificate. */
  token?: string;
  /** No credentials at all. */
  anonymous?: boolean;
  cert?: { cert: string; key: string };
}

export function api(
  s: TestServer,
  method: string,
  path: string,
  body?: unknown,
  opts: RequestOptions = {},
): Promise<Reply> {
  const url = new URL(path, s.url);
  const payload =
    body === undefined
      ? undefined
      : typeof body === 'string' || Buffer.isBuffer(body)
        ? body
        : JSON.stringify(body);
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (payload !== undefined && headers['Content-Type'] === undefined)
    headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  // Node sends DELETE bodies without chunked framing unless a length is given.
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  if (opts.token !== undefined) headers['Authorization'] = `Bearer ${opts.token}`;
  const useCert = opts.token === undefined && opts.anonymous !== true;
  const cert = opts.cert ?? { cert: s.adminCert, key: s.adminKey };
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers, ca: s.caPem, ...(useCert ? { cert: cert.cert, key: cert.key } : {}), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Opens a watch and collects its events until `until` returns true or the timeout passes. */
export function watchEvents(
  s: TestServer,
  path: string,
  until: (events: any[]) => boolean,
  timeoutMs = 10_000,
  opts: RequestOptions = {},
): Promise<{ events: any[]; status: number }> {
  const url = new URL(path, s.url);
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    let status = 0;
    const req = request(
      url,
      {
        method: 'GET',
        headers: { Accept: 'application/json', ...opts.headers },
        ca: s.caPem,
        cert: s.adminCert,
        key: s.adminKey,
        agent: false,
      },
      (res) => {
        status = res.statusCode ?? 0;
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString('utf8');
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line.trim() !== '') events.push(JSON.parse(line));
          }
          if (until(events)) finish();
        });
        res.on('end', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(finish, timeoutMs);
    let done = false;
    function finish(): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ events, status });
    }
    req.on('error', (e) => {
      if (!done) reject(e);
    });
    req.end();
  });
}

export const KUBECTL_VERSIONS = {
  '1.27': '/usr/lib/google-cloud-sdk/bin/kubectl.1.27',
  '1.33': '/usr/lib/google-cloud-sdk/bin/kubectl.1.33',
  default: '/usr/bin/kubectl',
} as const;
export type KubectlVersion = keyof typeof KUBECTL_VERSIONS;

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(
  s: TestServer,
  args: string[],
  opts: { version?: KubectlVersion; stdin?: string; env?: Record<string, string> } = {},
): Promise<KubectlResult> {
  const bin = KUBECTL_VERSIONS[opts.version ?? 'default'];
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      {
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: s.home,
          KUBECONFIG: s.kubeconfigPath,
          ...opts.env,
        },
        timeout: 30_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
    else child.stdin?.end();
  });
}

/** kubectl that must succeed; returns stdout. */
export async function kc(
  s: TestServer,
  args: string[],
  opts: Parameters<typeof kubectl>[2] = {},
): Promise<string> {
  const r = await kubectl(s, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export function ns(name: string): unknown {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function configMap(
  name: string,
  data: Record<string, string> = {},
  labels: Record<string, string> = {},
): any {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}

export function pod(name: string, extra: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'localhost:5000/tether/shell:1' }], ...extra },
  };
}
