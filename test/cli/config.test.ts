import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/common/index.js';
import { checkConfigText, loadConfigFile, suggest } from '../../src/cli/config-check.js';
import { parseFieldTable } from '../../src/cli/config-docs.js';
import { CONFIG_KINDS, detectKind, docsBlock, regenerateDocs } from '../../src/cli/commands/config.js';
import { CloudConfigSchema, EdgeConfigSchema } from '../../src/cli/config.js';
import { REPO_ROOT } from '../support/controlplane.js';

const EDGE_OK = `nodeName: edge-1
cloud:
  url: wss://cloud:10350
  certFile: /p/node.crt
  keyFile: /p/node.key
  caFile: /p/ca.crt
`;

describe('cli — configuration check', () => {
  it('cli — a valid edge file has no problems and yields the parsed config with defaults', () => {
    const r = checkConfigText(EDGE_OK, EdgeConfigSchema);
    expect(r.problems).toEqual([]);
    expect((r.value as { pods: { criSocket: string } }).pods.criSocket).toBe(
      '/run/containerd/containerd.sock',
    );
  });

  it('cli — a typo is an unknown key at its own line and column, with the key it probably meant', () => {
    const text = `${EDGE_OK}pods:\n  criSockt: /run/x\n  cni: maybe\n`;
    const { problems } = checkConfigText(text, EdgeConfigSchema);
    expect(problems).toEqual([
      {
        path: 'pods.criSockt',
        line: 8,
        column: 3,
        message: 'unknown key "criSockt" — did you mean "criSocket"?',
      },
      {
        path: 'pods.cni',
        line: 9,
        column: 8,
        message: expect.stringContaining('expected boolean') as string,
      },
    ]);
  });

  it('cli — unknown keys inside a union (the bus) and a record (health units) are found and suggested', () => {
    const text = `${EDGE_OK}devices:\n  bus: { mode: external, url: mqtt://b, usrname: u }\nhealth:\n  units:\n    cpu: { windw: 3 }\n`;
    const { problems } = checkConfigText(text, EdgeConfigSchema);
    expect(problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ['devices.bus.usrname', 8, 'unknown key "usrname" — did you mean "username"?'],
      ['health.units.cpu.windw', 11, 'unknown key "windw" — did you mean "window"?'],
    ]);
  });

  it('cli — a missing required field points at its parent and says it is required; far-off keys list the known ones', () => {
    const { problems } = checkConfigText('nodeName: e\ncloud:\n  url: wss://x:1\nzzz: 1\n', EdgeConfigSchema);
    expect(problems.find((p) => p.path === 'cloud.certFile')).toMatchObject({
      line: 3,
      message: 'missing: this field is required (string)',
    });
    expect(problems.find((p) => p.path === 'zzz')?.message).toMatch(
      /^unknown key "zzz" \(known here: nodeName, /,
    );
  });

  it('cli — broken YAML is reported with its position', () => {
    const { problems } = checkConfigText('nodeName: [a\ncloud: x\n', EdgeConfigSchema);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.message).toMatch(/^not valid YAML/);
    expect(problems[0]?.line).toBeGreaterThanOrEqual(1);
  });

  it('cli — loadConfigFile refuses a bad file with FILE:LINE:COL lines, as tether edge run does', () => {
    expect(() => loadConfigFile('/nonexistent/edge.yaml', EdgeConfigSchema, 'edge')).toThrow(ConfigError);
    const f = join(REPO_ROOT, 'test/fixtures');
    expect(() => loadConfigFile(f, EdgeConfigSchema, 'edge')).toThrow(
      /cannot read the edge configuration file/,
    );
  });

  it('cli — suggest finds close keys only', () => {
    expect(suggest('hub', ['hub', 'bootstrap'])).toBe('hub');
    expect(suggest('HUB', ['hub'])).toBe('hub');
    expect(suggest('bootstarp', ['hub', 'bootstrap'])).toBe('bootstrap');
    expect(suggest('completely', ['hub', 'bootstrap'])).toBeUndefined();
  });

  it('cli — the kind of a file is detected from its top-level keys', () => {
    expect(detectKind(EDGE_OK)).toBe('edge');
    expect(detectKind('hub: { port: 1 }\nkubeconfig: /k\n')).toBe('cloud');
    expect(detectKind('logLevel: info\n')).toBeUndefined();
  });
});

describe('cli — configuration docs', () => {
  const md = readFileSync(join(REPO_ROOT, 'docs/configuration.md'), 'utf8');

  it('cli — docs/configuration.md lists every field of both schemas with its type and default (regenerate: bin/tether config docs --write docs/configuration.md)', () => {
    // the generated tables, with the docs' own descriptions: equal only if nothing was added, removed or changed
    expect(regenerateDocs(md)).toBe(md);
    for (const kind of Object.keys(CONFIG_KINDS) as (keyof typeof CONFIG_KINDS)[]) {
      const rows = parseFieldTable(docsBlock(kind, md));
      expect(rows.size).toBeGreaterThan(10);
    }
  });

  it('cli — the hub admission settings of a cloud file are checked (acceptors 1–64) and left unset by default', () => {
    const ok = checkConfigText('hub:\n  acceptors: 16\n  maxQueuedConnections: 0\n', CloudConfigSchema);
    expect(ok.problems).toEqual([]);
    expect((ok.value as { hub: { acceptors?: number } }).hub.acceptors).toBe(16);
    expect(CloudConfigSchema.parse({}).hub.acceptors).toBeUndefined(); // the hub's default (64)
    const bad = checkConfigText('hub:\n  acceptors: 65\n  maxPendingHandshakes: 0\n', CloudConfigSchema);
    expect(bad.problems.map((p) => [p.path, p.line])).toEqual([
      ['hub.acceptors', 2],
      ['hub.maxPendingHandshakes', 3],
    ]);
  });

  it('cli — the generated rows carry the schema defaults', () => {
    const edge = parseFieldTable(docsBlock('edge', ''));
    expect(edge.get('pods.criSocket')?.default).toBe('`/run/containerd/containerd.sock`');
    expect(edge.get('nodeName')?.default).toBe('required');
    expect(edge.get('devices.bus.mode')?.default).toBe('`embedded`');
    const cloud = parseFieldTable(docsBlock('cloud', ''));
    expect(cloud.get('hub.port')?.default).toBe('`10350`');
    expect(cloud.get('metrics.port')?.default).toBe(`\`${CloudConfigSchema.parse({}).metrics.port}\``);
  });
});
