import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// scripts/setup puts promtool there (binary only, from Debian's prometheus package).
const PROMTOOL = process.env['TETHER_PROMTOOL'] ?? '/var/lib/tether-test/bin/promtool';
const RULES = 'deploy/prometheus/tether.rules.yaml';

const promtool = (args: string[]): Promise<{ code: number; out: string }> =>
  new Promise((resolve) => {
    execFile(PROMTOOL, args, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), out: stdout + stderr });
    });
  });

/** Every metric name a component registers (`name: 'tether_…'` in src/). */
function definedMetrics(dir = 'src'): Set<string> {
  const names = new Set<string>();
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) for (const n of definedMetrics(path)) names.add(n);
    else if (path.endsWith('.ts'))
      for (const m of readFileSync(path, 'utf8').matchAll(/name: '(tether_[a-z0-9_]+)'/g))
        if (m[1] !== undefined) names.add(m[1]);
  }
  return names;
}

describe('deploy/prometheus alerting rules', () => {
  it('deploy — promtool finds the rules valid and their unit tests pass', async () => {
    expect(existsSync(PROMTOOL), `${PROMTOOL} missing: run bash scripts/setup`).toBe(true);
    const check = await promtool(['check', 'rules', RULES]);
    expect(check.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.code).toBe(0);
    const unit = await promtool(['test', 'rules', 'test/deploy/tether.rules.test.yaml']);
    expect(unit.out).toContain('SUCCESS');
    expect(unit.code).toBe(0);
  });

  it('deploy — every alert names metrics the components really export, and is documented', () => {
    const doc = parse(readFileSync(RULES, 'utf8')) as {
      groups: { rules: { alert: string; expr: string; annotations: Record<string, string> }[] }[];
    };
    const defined = definedMetrics();
    const monitoring = readFileSync('docs/monitoring.md', 'utf8');
    const alerts = doc.groups.flatMap((g) => g.rules);
    expect(alerts.length).toBeGreaterThan(10);
    for (const r of alerts) {
      const used = [...r.expr.matchAll(/\b(tether_[a-z0-9_]+)/g)].map((m) =>
        (m[1] ?? '').replace(/_(bucket|sum|count)$/, ''),
      );
      for (const name of used) expect(defined, `${r.alert} uses ${name}`).toContain(name);
      // the runbook anchor exists: a heading with the alert's name
      expect(r.annotations['runbook']).toBe(`docs/monitoring.md#${r.alert.toLowerCase()}`);
      expect(monitoring, `docs/monitoring.md has no section for ${r.alert}`).toMatch(
        new RegExp(`^#+ .*\\b${r.alert}\\b`, 'm'),
      );
    }
  });
});
