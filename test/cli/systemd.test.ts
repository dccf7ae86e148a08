/**
 * deploy/systemd units (issue 11 packaging): systemd-analyze verify accepts them (with the install
 * prefix pointed at this checkout so ExecStart exists), and the properties operators rely on are set.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/controlplane.js';

const UNITS = ['tether-cloud.service', 'tether-edge.service'] as const;
const unit = (name: string): string => readFileSync(join(REPO_ROOT, 'deploy/systemd', name), 'utf8');

function hasSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tether-systemd-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('cli — systemd units', () => {
  it('cli — the units restart, harden and (edge) leave pods running when the agent stops', () => {
    const cloud = unit('tether-cloud.service');
    const edge = unit('tether-edge.service');
    for (const u of [cloud, edge]) {
      expect(u).toMatch(/^Restart=always$/m);
      expect(u).toMatch(/^RestartPreventExitStatus=2$/m);
      expect(u).toMatch(/^LimitNOFILE=\d+$/m);
      expect(u).toMatch(/^ProtectSystem=(strict|full)$/m);
      expect(u).toMatch(/^NoNewPrivileges=yes$/m);
    }
    expect(cloud).toMatch(/^User=tether$/m);
    expect(cloud).toMatch(/^ExecStart=\/opt\/tether\/bin\/tether cloud --config \/etc\/tether\/cloud.yaml$/m);
    expect(edge).toMatch(/^KillMode=process$/m);
    expect(edge).toMatch(
      /^ExecStart=\/opt\/tether\/bin\/tether edge run --config \/var\/lib\/tether\/edge\/edge.yaml$/m,
    );
  });

  it('cli — systemd-analyze verify accepts both units', () => {
    // Where systemd-analyze is missing (a container without systemd) the property test above stands alone.
    if (!hasSystemdAnalyze()) return;
    for (const name of UNITS) {
      const f = join(dir, name);
      writeFileSync(f, unit(name).replaceAll('/opt/tether', REPO_ROOT));
      const r = spawnSync('systemd-analyze', ['verify', f], { encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`, name).toBe('');
      expect(r.status, name).toBe(0);
    }
  });
});
