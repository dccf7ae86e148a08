import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { untilSignal } from '../signals.js';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { joinCloud } from '../../edge/bootstrap/index.js';
import { EdgeConfigSchema, loadConfig, validateConfig } from '../config.js';
import { nodeNameArg } from './token.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

function pinArg(v: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(v))
    throw new InvalidArgumentError(
      'expected sha256: followed by 64 lower-case hex digits (from `tether token create`).',
    );
  return v;
}

function tokenArg(v: string): string {
  if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(v))
    throw new InvalidArgumentError(
      'expected ID.SECRET: 6 and 16 characters of a-z and 0-9 (from `tether token create`).',
    );
  return v;
}

function cloudArg(v: string): string {
  const u = v.replace(/\/$/, '');
  if (!/^wss:\/\/[^/\s]+$/.test(u)) throw new InvalidArgumentError('expected wss://HOST:PORT.');
  return u;
}

interface JoinOpts {
  cloud: string;
  token: string;
  caCertHash: string;
  nodeName: string;
  dataDir: string;
  config?: string;
  run: boolean;
  force: boolean;
  logLevel: (typeof LEVELS)[number];
}

/**
 * `tether edge join` (issue 5, DESIGN §8): pins the cloud CA, exchanges the token for the node's
 * certificate (joinCloud), writes the credentials to <data-dir>/pki and an edge configuration
 * file, then runs the edge as `tether edge run --config <that file>` would (unless --no-run).
 */
export function registerEdgeJoin(edgeCommand: Command): void {
  edgeCommand
    .command('join')
    .description('join a cloud with a token, write credentials and an edge configuration, then run the edge')
    .addOption(
      new Option('--cloud <url>', 'wss://HOST:PORT of the cloud hub')
        .argParser(cloudArg)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--token <token>', 'ID.SECRET from `tether token create`')
        .argParser(tokenArg)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--ca-cert-hash <hash>',
        "sha256:<hex> pin of the cloud's CA (checked before the token is sent)",
      )
        .argParser(pinArg)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--node-name <name>', 'name of this node in Kubernetes')
        .argParser(nodeNameArg)
        .default(hostname().toLowerCase(), 'the host name'),
    )
    .option(
      '--data-dir <dir>',
      'the edge state: store, pki/ with the credentials, edge.yaml',
      '/var/lib/tether/edge',
    )
    .option('--config <file>', 'where to write the edge configuration (default: <data-dir>/edge.yaml)')
    .option('--no-run', 'only join and write the files; start later with `tether edge run --config <file>`')
    .option('--force', 'join again even if this data directory has already joined', false)
    .addOption(new Option('--log-level <level>', 'log level of the edge').choices(LEVELS).default('info'))
    .addHelpText(
      'after',
      '\nExample:\n  tether edge join --cloud wss://cloud.example.com:10350 --token abcdef.0123456789abcdef \\\n' +
        '    --ca-cert-hash sha256:<hex> --node-name edge-7',
    )
    .action(async (opts: JoinOpts) => {
      const dataDir = resolve(opts.dataDir);
      const configFile = resolve(opts.config ?? join(dataDir, 'edge.yaml'));
      if (existsSync(configFile) && !opts.force)
        throw new Error(
          `${configFile} exists: this edge has already joined. Start it with \`tether edge run --config ${configFile}\`, or pass --force to join again`,
        );
      const pkiDir = join(dataDir, 'pki');
      const creds = await joinCloud({
        cloudUrl: opts.cloud,
        token: opts.token,
        caCertHash: opts.caCertHash,
        nodeName: opts.nodeName,
        dir: pkiDir,
      });
      // Validated with the schema `tether edge run` uses, so the file we write is one it accepts.
      const cfg = validateConfig(
        {
          nodeName: opts.nodeName,
          dataDir,
          cloud: {
            url: opts.cloud,
            certFile: creds.paths.cert,
            keyFile: creds.paths.key,
            caFile: creds.paths.ca,
          },
          logLevel: opts.logLevel,
        },
        EdgeConfigSchema,
        'edge configuration',
      );
      mkdirSync(dirname(configFile), { recursive: true, mode: 0o700 });
      const tmp = `${configFile}.tmp-${process.pid}`;
      writeFileSync(
        tmp,
        `# written by \`tether edge join\`; run with: tether edge run --config ${configFile}\n` +
          stringify({
            nodeName: cfg.nodeName,
            dataDir: cfg.dataDir,
            cloud: cfg.cloud,
            logLevel: cfg.logLevel,
          }),
        { mode: 0o600 },
      );
      renameSync(tmp, configFile);
      console.error(
        `tether edge: joined ${opts.cloud} as node ${opts.nodeName}; credentials in ${pkiDir}, configuration ${configFile}`,
      );
      if (!opts.run) {
        console.error(`start it with: tether edge run --config ${configFile}`);
        return;
      }
      // Exactly what `tether edge run --config <file>` does, from the file just written.
      const fromFile = loadConfig(configFile, EdgeConfigSchema, 'edge');
      const { startEdge } = await import('../edge.js');
      const e = await startEdge(fromFile);
      console.error(`tether edge: node ${fromFile.nodeName} started; cloud ${fromFile.cloud.url}`);
      untilSignal(() => e.stop());
    });
}
