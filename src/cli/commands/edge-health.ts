import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, TetherError } from '../../common/index.js';
import { API_ENDPOINT_FILE, type EndpointInfo, type HealthView } from '../../edge/api/index.js';
import { EdgeConfigSchema, loadConfig } from '../config.js';

/** The edge agent's local endpoint could not be reached or refused us. */
export class EdgeHealthUnavailableError extends TetherError {
  readonly code = 'EDGE_HEALTH_UNAVAILABLE';
}

export interface EdgeHealthOptions {
  config?: string;
  dataDir?: string;
  url?: string;
  tokenFile?: string;
  output: string;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new EdgeHealthUnavailableError(
      `cannot read ${what} ${file}: ${(e as Error).message} (is the edge running, and are you root?)`,
      { cause: e },
    );
  }
}

/** Where to ask: --url/--token-file, else the endpoint file the running agent wrote in its data directory. */
export function resolveEndpoint(opts: EdgeHealthOptions): EndpointInfo {
  let dataDir = opts.dataDir;
  if (dataDir === undefined && opts.config !== undefined)
    dataDir = loadConfig(opts.config, EdgeConfigSchema, 'edge').dataDir;
  dataDir ??= EdgeConfigSchema.shape.dataDir.parse(undefined);
  let info: EndpointInfo | undefined;
  if (opts.url === undefined || opts.tokenFile === undefined) {
    const file = join(dataDir, API_ENDPOINT_FILE);
    try {
      info = JSON.parse(readText(file, 'the endpoint file')) as EndpointInfo;
    } catch (e) {
      if (e instanceof EdgeHealthUnavailableError) throw e;
      throw new EdgeHealthUnavailableError(`${file} is not valid JSON`, { cause: e });
    }
  }
  const url = opts.url ?? info?.url;
  const tokenFile = opts.tokenFile ?? info?.tokenFile;
  if (url === undefined || tokenFile === undefined)
    throw new ConfigError('give --url and --token-file, or --config / --data-dir of a running edge');
  return { url, tokenFile };
}

export async function fetchHealth(ep: EndpointInfo): Promise<HealthView> {
  const token = readText(ep.tokenFile, 'the token file').trim();
  let res: Response;
  try {
    res = await fetch(new URL('/health', ep.url), {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    throw new EdgeHealthUnavailableError(
      `the edge agent at ${ep.url} does not answer: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  const text = await res.text();
  if (!res.ok)
    throw new EdgeHealthUnavailableError(`the edge agent answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as HealthView;
}

function age(at: string | undefined, now: number): string {
  if (at === undefined) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(at)) / 1000));
  return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
}

/** The human form: verdict, status string, reasons, then one row per unit (kubectl-like columns). */
export function formatHealth(v: HealthView, now = Date.now()): string {
  const lines = [`VERDICT: ${v.verdict}`, `STATUS:  ${v.statusString}`];
  if (v.startup !== undefined)
    lines.push(
      `STARTUP: ${v.startup.verdict}${v.startup.uncleanShutdown ? ', after an unclean shutdown' : ''}; ${
        v.startup.admitNewPods ? 'admitting new pods' : `NOT admitting new pods (${v.startup.admitReason})`
      }`,
    );
  for (const r of v.reasons) lines.push(`REASON:  ${r}`);
  lines.push('');
  const rows = [
    ['UNIT', 'MODE', 'CRITICAL', 'STATE', 'VALUE', 'OUTPUT', 'AGE', 'ERROR'],
    ...v.units.map((u) => [
      u.unit,
      u.mode,
      u.critical ? 'yes' : 'no',
      u.stale ? `${u.state} (stale)` : u.state,
      u.value === undefined ? '-' : String(Number(u.value.toPrecision(4))),
      u.output ?? '-',
      age(u.at, now),
      u.lastError ?? '',
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows)
    lines.push(
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('   ')
        .trimEnd(),
    );
  return lines.join('\n');
}

/** Adds `tether edge health` to the `edge` command. */
export function registerEdgeHealth(edgeCommand: Command): void {
  edgeCommand
    .command('health')
    .description("show this edge node's health verdict, status string and judgement units")
    .option('-c, --config <file>', 'edge configuration (YAML) of the running edge')
    .option('--data-dir <dir>', 'data directory of the running edge (instead of --config)')
    .option('--url <url>', 'local endpoint URL (default: from <dataDir>/api.json)')
    .option('--token-file <file>', 'bearer token file (default: from <dataDir>/api.json)')
    .option('-o, --output <format>', 'table or json', 'table')
    .addHelpText(
      'after',
      '\nExamples:\n  tether edge health -c /etc/tether/edge.yaml\n  tether edge health -o json',
    )
    .action(async (opts: EdgeHealthOptions) => {
      if (opts.output !== 'table' && opts.output !== 'json')
        throw new ConfigError(`--output must be table or json, got ${JSON.stringify(opts.output)}`);
      const view = await fetchHealth(resolveEndpoint(opts));
      console.log(opts.output === 'json' ? JSON.stringify(view, null, 2) : formatHealth(view));
    });
}
