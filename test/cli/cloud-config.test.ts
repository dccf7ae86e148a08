import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/common/index.js';
import { advertisedHosts } from '../../src/cli/cloud.js';
import { CloudConfigSchema, validateConfig } from '../../src/cli/config.js';

const parse = (raw: unknown) => validateConfig(raw, CloudConfigSchema, 'cloud configuration');

describe('cli — cloud configuration', () => {
  it('cli — a minimal config needs no certificate files (the CA lives in Kubernetes)', () => {
    const c = parse({ kubeconfig: '/k' });
    expect(c.hub.port).toBe(10350);
    expect(c.hub.certFile).toBeUndefined();
    expect(c.bootstrap.edgeCertValidMs).toBe(30 * 24 * 3600_000);
    expect(advertisedHosts(c)).toContain('127.0.0.1');
  });

  it('cli — advertise names the serving SANs; a specific host is advertised by default', () => {
    expect(advertisedHosts(parse({ hub: { advertise: ['cloud.example.com', '10.0.0.1'] } }))).toEqual([
      'cloud.example.com',
      '10.0.0.1',
    ]);
    expect(advertisedHosts(parse({ hub: { host: '192.0.2.7' } }))).toEqual(['192.0.2.7']);
  });

  it('cli — operator certificate files go together: a partial set is refused with the missing ones named', () => {
    expect(parse({ hub: { certFile: '/c', keyFile: '/k', caFile: '/a' } }).hub.caFile).toBe('/a');
    expect(() => parse({ hub: { certFile: '/c' } })).toThrow(ConfigError);
    expect(() => parse({ hub: { certFile: '/c' } })).toThrow(/certFile given without keyFile, caFile/);
    expect(() => parse({ hub: { advertise: [] } })).toThrow(/hub\.advertise/);
    expect(() => parse({ bootstrap: { nope: 1 } })).toThrow(/bootstrap/);
  });
});
