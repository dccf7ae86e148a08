import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { silentLogger, type Logger } from '../../common/index.js';
import { CloudPki, joinCommand, TOKEN_RE, TokenStore, type TokenInfo } from '../../cloud/bootstrap/index.js';
import { KubeClient, loadKubeConfig } from '../../cloud/kube/index.js';

/** The admin kubeconfig `tether up` writes with its default state dir. */
export const UP_KUBECONFIG = '/var/lib/tether/up/apiserver/admin.kubeconfig';

/**
 * Which kubeconfig the admin commands use: --kubeconfig, else $KUBECONFIG, else the one of a
 * local `tether up` when present, else the client's default (~/.kube/config, in-cluster).
 */
export function resolveKubeconfig(flag: string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  const env = process.env['KUBECONFIG'];
  if (env !== undefined && env !== '') return env;
  return existsSync(UP_KUBECONFIG) ? UP_KUBECONFIG : undefined;
}

/** A Kubernetes client for the admin commands (token, node). */
export function adminKube(flag: string | undefined, log: Logger = silentLogger()): KubeClient {
  const kubeconfig = resolveKubeconfig(flag);
  return new KubeClient(loadKubeConfig(kubeconfig === undefined ? {} : { kubeconfig }), log);
}

export const kubeconfigOption = (): Option =>
  new Option(
    '--kubeconfig <file>',
    `admin kubeconfig (default: $KUBECONFIG, else ${UP_KUBECONFIG} when present, else ~/.kube/config)`,
  );

export const outputOption = (): Option =>
  new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `24h`, `90m`, `1h30m`, `7d`, `1s` → milliseconds (commander argParser: bad input is a usage error). */
export function parseDuration(v: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(v); m !== null; m = re.exec(v)) {
    total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    at = re.lastIndex;
  }
  if (v === '' || at !== v.length || !(total > 0))
    throw new InvalidArgumentError('expected a positive duration such as 24h, 30m, 1h30m, 7d or 90s.');
  return Math.round(total);
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number of at least 1.');
  return n;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
export function nodeNameArg(v: string): string {
  if (!NODE_NAME.test(v))
    throw new InvalidArgumentError(
      'expected a node name: lower case letters, digits, "-" and ".", starting and ending with a letter or digit.',
    );
  return v;
}

function cloudUrlArg(v: string): string {
  if (!/^wss:\/\/[^/\s]+$/.test(v.replace(/\/$/, '')))
    throw new InvalidArgumentError('expected wss://HOST:PORT (the address edges dial).');
  return v.replace(/\/$/, '');
}

/** The address the running cloud core published (src/cli/cloud.ts CLOUD_INFO). */
async function publishedUrl(kube: KubeClient): Promise<string | undefined> {
  try {
    const cm = await kube.core.readNamespacedConfigMap({ name: 'tether-cloud', namespace: 'tether-system' });
    return cm.data?.['url'];
  } catch (e) {
    if ((e as { code?: unknown }).code === 404) return undefined;
    throw e;
  }
}

function tokenJson(t: TokenInfo, now: number): Record<string, unknown> {
  return {
    id: t.id,
    expiresAt: t.expiresAt.toISOString(),
    expired: t.expiresAt.getTime() <= now,
    uses: t.uses,
    ...(t.maxUses === undefined ? {} : { maxUses: t.maxUses }),
    ...(t.node === undefined ? {} : { node: t.node }),
    description: t.description,
    createdBy: t.createdBy,
    createdAt: t.createdAt.toISOString(),
  };
}

function remaining(ms: number): string {
  if (ms <= 0) return 'expired';
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/** `tether token create|list|revoke` (issue 5): join tokens kept as Secrets in tether-system. */
export function registerToken(program: Command): void {
  const token = program
    .command('token')
    .description('manage the join tokens edge nodes use with `tether edge join`');

  token
    .command('create')
    .description('create a join token and print the `tether edge join` command that uses it')
    .addOption(
      new Option('--ttl <duration>', 'lifetime, e.g. 24h, 30m, 7d')
        .argParser(parseDuration)
        .default(86_400_000, '24h'),
    )
    .addOption(
      new Option('--node <name>', 'the only node name this token may join as').argParser(nodeNameArg),
    )
    .addOption(
      new Option('--uses <n>', 'how many joins it allows (default: any until it expires)').argParser(
        positiveInt,
      ),
    )
    .option('--description <text>', 'free text shown by `tether token list`')
    .addOption(
      new Option(
        '--cloud <url>',
        'wss://HOST:PORT edges dial (default: what the running cloud core published)',
      ).argParser(cloudUrlArg),
    )
    .addOption(kubeconfigOption())
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nExamples:\n  tether token create\n  tether token create --ttl 1h --node edge-7 --uses 1 --description "rack 7"',
    )
    .action(
      async (opts: {
        ttl: number;
        node?: string;
        uses?: number;
        description?: string;
        cloud?: string;
        kubeconfig?: string;
        output: 'text' | 'json';
      }) => {
        const log = silentLogger();
        const kube = adminKube(opts.kubeconfig, log);
        const cloudUrl = opts.cloud ?? (await publishedUrl(kube));
        if (cloudUrl === undefined)
          throw new Error(
            'no cloud core has published its address (ConfigMap tether-system/tether-cloud): start `tether cloud` first, or pass --cloud wss://HOST:PORT',
          );
        // The CA is the source of truth for the pin; loading it creates it if no cloud core ran yet.
        const pki = new CloudPki({}, kube, log);
        await pki.start();
        const created = await new TokenStore(kube, log).create({
          ttlMs: opts.ttl,
          ...(opts.node === undefined ? {} : { node: opts.node }),
          ...(opts.uses === undefined ? {} : { maxUses: opts.uses }),
          ...(opts.description === undefined ? {} : { description: opts.description }),
          createdBy: `${userInfo().username}@${hostname()}`,
        });
        const command =
          joinCommand(cloudUrl, created.token, pki.pin) +
          (opts.node === undefined ? '' : ` --node-name ${opts.node}`);
        if (opts.output === 'json') {
          console.log(
            JSON.stringify(
              {
                ...tokenJson(created.info, Date.now()),
                token: created.token,
                cloud: cloudUrl,
                caCertHash: pki.pin,
                joinCommand: command,
              },
              null,
              2,
            ),
          );
          return;
        }
        console.log(command);
        if (/^wss:\/\/(127\.|localhost|\[::1\])/.test(cloudUrl))
          console.error(
            `note: ${cloudUrl} is a loopback address, reachable only from this machine; set hub.advertise in the cloud configuration (or pass --cloud) for remote edges.`,
          );
        const { info } = created;
        console.error(
          `token ${info.id} expires at ${info.expiresAt.toISOString()}` +
            (info.maxUses === undefined ? '' : `, allows ${info.maxUses} join(s)`) +
            (info.node === undefined ? '' : `, only for node ${info.node}`) +
            '. The secret part is shown only now.',
        );
      },
    );

  token
    .command('list')
    .description('list join tokens (never their secrets)')
    .addOption(kubeconfigOption())
    .addOption(outputOption())
    .addHelpText('after', '\nExamples:\n  tether token list\n  tether token list -o json')
    .action(async (opts: { kubeconfig?: string; output: 'text' | 'json' }) => {
      const list = await new TokenStore(adminKube(opts.kubeconfig), silentLogger()).list();
      const now = Date.now();
      if (opts.output === 'json') {
        console.log(
          JSON.stringify(
            list.map((t) => tokenJson(t, now)),
            null,
            2,
          ),
        );
        return;
      }
      if (list.length === 0) {
        console.log('no join tokens (create one with `tether token create`)');
        return;
      }
      console.log(
        table([
          ['ID', 'TTL', 'EXPIRES', 'USES', 'NODE', 'CREATED BY', 'DESCRIPTION'],
          ...list.map((t) => [
            t.id,
            remaining(t.expiresAt.getTime() - now),
            t.expiresAt.toISOString(),
            t.maxUses === undefined ? String(t.uses) : `${t.uses}/${t.maxUses}`,
            t.node ?? '<any>',
            t.createdBy,
            t.description,
          ]),
        ]),
      );
    });

  token
    .command('revoke')
    .description('revoke a join token (edges that already joined keep their certificates)')
    .argument('<id>', 'the token ID (the part before the dot)')
    .addOption(kubeconfigOption())
    .addHelpText('after', '\nExample:\n  tether token revoke abcdef')
    .action(async (idArg: string, opts: { kubeconfig?: string }) => {
      // Accept the whole ID.SECRET too: people paste what they have.
      const id = TOKEN_RE.exec(idArg)?.[1] ?? idArg;
      if (!/^[a-z0-9]{6}$/.test(id))
        throw new Error(`${idArg} is not a token ID (6 characters of a-z and 0-9)`);
      const gone = await new TokenStore(adminKube(opts.kubeconfig), silentLogger()).revoke(id);
      if (!gone) throw new Error(`there is no join token ${id} (already revoked, or never created)`);
      console.log(`token ${id} revoked`);
    });
}
