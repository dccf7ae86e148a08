/**
 * Edge agent footprint at import (issue 12, "cheap cut"): RSS of a fresh Node process after it
 * imports the edge composition root, with and without the CLI program around it.
 * `npx tsx bench/edge-footprint.ts [--runs 5]` — prints JSON, then a table.
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

const TARGETS: Record<string, string> = {
  'node + tsx (nothing imported)': '',
  'src/cli/edge.ts (startEdge)': 'src/cli/edge.ts',
  'src/cli/program.ts (whole CLI)': 'src/cli/program.ts',
  'src/edge/devices/index.ts': 'src/edge/devices/index.ts',
};

// the child: import, GC, then report RSS and which MQTT modules are in the CJS cache
const probe = (file: string): string => `
const { createRequire } = await import('node:module');
${file === '' ? '' : `await import(${JSON.stringify(resolve(REPO, file))});`}
globalThis.gc?.(); await new Promise((r) => setTimeout(r, 200)); globalThis.gc?.();
const req = createRequire(${JSON.stringify(REPO + '/')});
const loaded = Object.keys(req.cache).filter((k) => /node_modules\\/(aedes|mqtt)\\//.test(k)).map((k) => k.replace(/.*node_modules\\/(aedes|mqtt)\\/.*/, '$1'));
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
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', probe(file)],
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
