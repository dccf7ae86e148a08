/**
 * Edge agent footprint at import (issue 12): RSS of a fresh Node process after it imports the edge
 * composition root, with and without the CLI program around it, and (--dist) the same for the
 * built output under plain node plus each third-party library alone — the breakdown of what the
 * agent's RSS is made of. The running agent: bench/edge-agent.ts.
 * `npx tsx bench/edge-footprint.ts [--runs 5] [--dist]` — prints JSON, then a table.
 *
 * Each measurement is its own child (`node --import tsx`, as bin/tether runs), which imports the
 * module, runs a full GC and reports VmRSS and whether the MQTT modules (aedes, mqtt) were loaded
 * (they resolve through CommonJS, so they show in require.cache once anything imports them).
 * Figures, not assertions (STYLE).
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
// --repo: another checkout (e.g. `git archive <rev> | tar -x` with node_modules linked) to compare
const REPO = resolve(arg('repo') ?? resolve(fileURLToPath(import.meta.url), '../..'));
const RUNS = Number(arg('runs') ?? '5');

const DIST = process.argv.includes('--dist');
const TARGETS: Record<string, string> = DIST
  ? {
      'node (nothing imported)': '',
      'dist/cli/edge.js (startEdge)': 'dist/cli/edge.js',
      'dist/cli/program-core.js (what `tether edge run` loads)': 'dist/cli/program-core.js',
      'dist/cli/program.js (whole CLI)': 'dist/cli/program.js',
      'dist/edge/devices/index.js': 'dist/edge/devices/index.js',
      // libraries alone (each on top of bare node; they share node's module loader, so the sum
      // of the increments overstates a process that loads them all)
      'lib zod': 'zod',
      'lib @grpc/grpc-js + @grpc/proto-loader': '@grpc/grpc-js,@grpc/proto-loader',
      'lib @peculiar/x509 (+ reflect-metadata)': 'reflect-metadata,@peculiar/x509',
      'lib better-sqlite3': 'better-sqlite3',
      'lib ws': 'ws',
      'lib pino': 'pino',
      'lib prom-client': 'prom-client',
      'lib msgpackr': 'msgpackr',
      'lib yaml': 'yaml',
      'lib commander': 'commander',
      'lib aedes + mqtt (the bus, once a client connects)': 'aedes,mqtt',
    }
  : {
      'node + tsx (nothing imported)': '',
      'src/cli/edge.ts (startEdge)': 'src/cli/edge.ts',
      'src/cli/program.ts (whole CLI)': 'src/cli/program.ts',
      'src/edge/devices/index.ts': 'src/edge/devices/index.ts',
    };

/** A repository file by path, or bare package names (comma-separated), imported in order. */
const imports = (target: string): string =>
  target === ''
    ? ''
    : (target.includes('/') && target.endsWith('.js')) || target.endsWith('.ts')
      ? `await import(${JSON.stringify(resolve(REPO, target))});`
      : target
          .split(',')
          .map((m) => `await import(${JSON.stringify(m)});`)
          .join(' ');

// the child: import, GC, then report RSS and which MQTT modules are in the CJS cache
const probe = (file: string): string => `
const { createRequire } = await import('node:module');
${imports(file)}
globalThis.gc?.(); await new Promise((r) => setTimeout(r, 200)); globalThis.gc?.();
const req = createRequire(${JSON.stringify(REPO + '/')});
const loaded = Object.keys(req.cache).filter((k) => /node_modules\\/(aedes-persistence|mqtt)\\//.test(k)).map((k) => k.replace(/.*node_modules\\/(aedes-persistence|mqtt)\\/.*/, '$1'));
const m = /^VmRSS:\\s+(\\d+)/m.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'));
process.stdout.write(JSON.stringify({ rssKB: Number(m?.[1]), mqttLoaded: [...new Set(loaded)] }));
`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const rows: { target: string; rssMiB: number; runsMiB: number[]; mqttLoaded: string[] }[] = [];
for (const [label, file] of Object.entries(TARGETS)) {
  const runs: number[] = [];
  let mqttLoaded: string[] = [];
  for (let r = 0; r < RUNS; r++) {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', ...(DIST ? [] : ['--import', 'tsx']), '--input-type=module', '-e', probe(file)],
      { cwd: REPO, encoding: 'utf8' },
    );
    const j = JSON.parse(out) as { rssKB: number; mqttLoaded: string[] };
    runs.push(Math.round((j.rssKB / 1024) * 10) / 10);
    mqttLoaded = j.mqttLoaded;
  }
  rows.push({ target: label, rssMiB: median(runs), runsMiB: runs, mqttLoaded });
}

const result = {
  benchmark: 'edge-footprint',
  date: new Date().toISOString(),
  machine: { nproc: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version },
  loadavg: loadavg().map((x) => Math.round(x * 10) / 10),
  repo: REPO,
  command: `npx tsx bench/edge-footprint.ts ${process.argv.slice(2).join(' ')}`.trim(),
  rows,
};
console.log(JSON.stringify(result, null, 2));
console.log('\nimported | RSS MiB (median of runs) | aedes/mqtt loaded');
for (const r of rows) console.log(`${r.target} | ${String(r.rssMiB)} | ${r.mqttLoaded.join(', ') || 'no'}`);
