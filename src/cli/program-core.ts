// The commands a long-running process needs (`tether edge run`, `tether cloud`, `up`, `down`,
// `version`), without the registrars of commands/*.ts: those pull in the cloud's bootstrap, the
// Kubernetes client and the config docs, which the edge agent must not load (issue 12: edge
// footprint ≤ 60 MB). main.ts runs these from here; program.ts adds the rest for everything else.
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError, errorMessage, TetherError } from '../common/index.js';
import { CloudConfigSchema, EdgeConfigSchema, loadConfig } from './config.js';
import { errorLine, exitCodeFor, kubeApiUnreachable } from './errors.js';
import { EXIT } from './exit.js';
import { untilSignal } from './signals.js';

export const VERSION = '0.1.0';

function port(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(`${flag} must be a port number (0-65535), got ${JSON.stringify(v)}`);
  return n;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
function logLevel(v: string): (typeof LEVELS)[number] {
  const l = LEVELS.find((x) => x === v);
  if (l === undefined)
    throw new ConfigError(`--log-level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(v)}`);
  return l;
}

/**
 * The root command alone (name, version, usage-error and help behaviour). The edge bundle
 * (scripts/build-edge.ts) adds only `edge run` to it, so it contains nothing of the cloud.
 */
export function rootCommand(): Command {
  const program = new Command()
    .name('tether')
    .description(
      'Cloud–edge collaboration platform: Kubernetes workloads and devices on edge nodes over unreliable links',
    )
    .version(VERSION, '-v, --version')
    // before any subcommand exists: they inherit it, so every usage error reaches main (exit 2)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes (every command): 0 ok, 1 failed, 2 wrong usage or invalid configuration,
3 some edge node offline or unhealthy (tether status), 4 cloud or Kubernetes API unreachable,
5 refused (expired, unknown or revoked token; credentials not accepted).

Examples:
  sudo tether up                    # everything on this machine
  tether status                     # the fleet at a glance
  tether token create --ttl 1h      # a join command for another edge
  tether config validate /etc/tether/edge.yaml`,
    );
  return program;
}

/** The root command with the core subcommands; `edge` is the group the registrars extend. */
export function buildCoreProgram(): { program: Command; edge: Command } {
  const program = rootCommand();

  program
    .command('version')
    .description('print the version')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText('after', '\nExamples:\n  tether version\n  tether version -o json')
    .action((opts: { output: string }) => {
      console.log(
        opts.output === 'json'
          ? JSON.stringify({ version: VERSION, node: process.version })
          : `tether ${VERSION}`,
      );
    });

  program
    .command('cloud')
    .description('run the cloud core against a Kubernetes cluster')
    .requiredOption('-c, --config <file>', 'cloud configuration (YAML)')
    .addHelpText(
      'after',
      '\nEvery field: docs/configuration.md; check a file first with `tether config validate`.\n' +
        '\nExamples:\n  tether cloud --config /etc/tether/cloud.yaml\n  KUBECONFIG=~/.kube/config tether cloud -c cloud.yaml',
    )
    .action(async (opts: { config: string }) => {
      const cfg = loadConfig(opts.config, CloudConfigSchema, 'cloud');
      const { startCloud } = await import('./cloud.js');
      const cloud = await startCloud(cfg);
      const { serveMetrics } = await import('./metrics.js');
      const metrics = cfg.metrics.enabled
        ? await serveMetrics(cloud.registry, cfg.metrics.host, cfg.metrics.port).catch(async (e: unknown) => {
            await cloud.stop();
            throw new Error(
              `cannot serve metrics on ${cfg.metrics.host}:${cfg.metrics.port}: ${errorMessage(e)} (set metrics.port, or metrics.enabled: false)`,
              { cause: e },
            );
          })
        : undefined;
      console.error(
        `tether cloud: hub listening on ${cfg.hub.host}:${cloud.hub.port}` +
          (metrics === undefined ? '' : `; metrics on ${metrics.url}`),
      );
      untilSignal(async () => {
        await metrics?.close();
        await cloud.stop();
      });
    });

  program
    .command('up')
    .description('run everything on this machine: control plane, cloud core, a local edge')
    .option('--state-dir <dir>', 'where state is kept between runs', '/var/lib/tether/up')
    .option('--api-port <port>', 'port of the embedded Kubernetes API server', '6443')
    .option('--hub-port <port>', 'port of the cloud hub edges connect to', '10350')
    .option(
      '--metrics-port <port>',
      "port of the cloud core's Prometheus metrics (tether status reads it)",
      '10352',
    )
    .option('--node-name <name>', 'name of the local edge node', 'edge-local')
    .option('--bus-port <port>', "port of the local edge's MQTT bus", '1883')
    .option('--edge-api-port <port>', "port of the local edge's local API (tether edge health)", '10351')
    .option('--streams-port <port>', "port of the cloud core's kubelet endpoint (kubectl logs/exec)", '10353')
    .option('--edges <n>', 'more edges, each in its own network namespace (root)', '0')
    .option('--kubeconfig <file>', 'use this existing cluster instead of the embedded control plane')
    .option('--no-device', 'do not create the simulated demo device')
    .option('--no-setup', 'do not install packages or start containerd and the registry')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'warn')
    .addHelpText(
      'after',
      `
Safe to run again (state is kept in --state-dir); Ctrl-C stops everything; \`tether down\` removes it.

Examples:
  sudo tether up
  sudo tether up --edges 2                      # two more edges in network namespaces
  sudo tether up --kubeconfig ~/.kube/config    # an existing cluster instead of the embedded one
  tether up --no-setup --state-dir /tmp/tether --api-port 7443 --hub-port 7350 --metrics-port 7352`,
    )
    .action(
      async (opts: {
        stateDir: string;
        apiPort: string;
        hubPort: string;
        metricsPort: string;
        busPort: string;
        edgeApiPort: string;
        streamsPort: string;
        nodeName: string;
        edges: string;
        kubeconfig?: string;
        device: boolean;
        setup: boolean;
        logLevel: string;
      }) => {
        const edges = Number(opts.edges);
        if (!Number.isInteger(edges) || edges < 0 || edges > 50)
          throw new ConfigError(
            `--edges must be a whole number from 0 to 50, got ${JSON.stringify(opts.edges)}`,
          );
        const { up } = await import('./up.js');
        const running = await up({
          stateDir: opts.stateDir,
          apiPort: port(opts.apiPort, '--api-port'),
          hubPort: port(opts.hubPort, '--hub-port'),
          metricsPort: port(opts.metricsPort, '--metrics-port'),
          busPort: port(opts.busPort, '--bus-port'),
          edgeApiPort: port(opts.edgeApiPort, '--edge-api-port'),
          streamsPort: port(opts.streamsPort, '--streams-port'),
          nodeName: opts.nodeName,
          setup: opts.setup,
          logLevel: logLevel(opts.logLevel),
          edges,
          device: opts.device,
          ...(opts.kubeconfig === undefined ? {} : { kubeconfig: resolve(opts.kubeconfig) }),
        });
        untilSignal(() => running.stop());
      },
    );

  program
    .command('down')
    .description('stop what `tether up` started (edges, namespaces, pods) and remove its state')
    .addHelpText('after', '\nExamples:\n  sudo tether down\n  tether down --state-dir /tmp/tether')
    .option('--state-dir <dir>', 'the state directory of tether up', '/var/lib/tether/up')
    .action(async (opts: { stateDir: string }) => {
      const { down } = await import('./up.js');
      console.log(await down(opts.stateDir));
    });

  const edge = program.command('edge').description('edge node commands');
  addEdgeRun(edge);
  return { program, edge };
}

/** `tether edge run`: the edge agent (the only command of the edge bundle, dist/bundle/). */
export function addEdgeRun(edge: Command): void {
  edge
    .command('run')
    .description('run the edge core with a configuration file')
    .requiredOption('-c, --config <file>', 'edge configuration (YAML)')
    .addHelpText(
      'after',
      '\nThe file is written by `tether edge join`; every field: docs/configuration.md.\n' +
        '\nExample:\n  tether edge run --config /var/lib/tether/edge/edge.yaml',
    )
    .action(async (opts: { config: string }) => {
      const cfg = loadConfig(opts.config, EdgeConfigSchema, 'edge');
      const { startEdge } = await import('./edge.js');
      const e = await startEdge(cfg);
      console.error(`tether edge: node ${cfg.nodeName} started; cloud ${cfg.cloud.url}`);
      untilSignal(() => e.stop());
    });
}

/** Runs `program` on argv; returns the exit code (usage errors 2, classified failures per EXIT). */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  program.exitOverride();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    // commander has printed its message; --help and --version exit 0, every usage error is 2
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    // token, node and status talk only to Kubernetes: a network failure that reaches here is the API's
    const shown = e instanceof TetherError ? e : kubeApiUnreachable(e, undefined);
    console.error(errorLine(shown));
    return exitCodeFor(shown);
  }
}
