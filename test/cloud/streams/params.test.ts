import { describe, expect, it } from 'vitest';
import { hostOnly, logOptions, nodeProxyName, statusOf } from '../../../src/cloud/streams/index.js';
import { validateEnvelope } from '../../../src/protocol/validate.js';

describe('cloud streams parameters', () => {
  it('streams — kubelet /containerLogs query becomes the contract LogsOptions', () => {
    const q = new URLSearchParams(
      'follow=true&timestamps=1&previous=false&tailLines=10&limitBytes=500&sinceSeconds=60',
    );
    expect(logOptions(q)).toEqual({
      type: 'logs',
      follow: true,
      timestamps: true,
      previous: false,
      tailLines: 10,
      sinceSeconds: 60,
      limitBytes: 500,
    });
    expect(logOptions(new URLSearchParams(''))).toEqual({
      type: 'logs',
      follow: false,
      timestamps: false,
      previous: false,
    });
    expect(logOptions(new URLSearchParams('sinceTime=2026-11-26T10:00:00Z'))).toMatchObject({
      sinceTime: '2026-11-26T10:00:00Z',
    });
  });

  it('streams — bad log parameters are refused with a reason', () => {
    expect(logOptions(new URLSearchParams('tailLines=-1'))).toContain('tailLines');
    expect(logOptions(new URLSearchParams('tailLines=abc'))).toContain('tailLines');
    expect(logOptions(new URLSearchParams('limitBytes=0'))).toContain('limitBytes');
    expect(logOptions(new URLSearchParams('sinceTime=yesterday'))).toContain('RFC 3339');
    expect(logOptions(new URLSearchParams('sinceTime=2026-11-26T10:00:00Z&sinceSeconds=5'))).toContain(
      'at most one',
    );
  });

  it('streams — exit codes become the Status kubectl turns into its own exit code', () => {
    expect(statusOf({ type: 'exit', code: 0 }, ['true'])).toEqual({ metadata: {}, status: 'Success' });
    expect(statusOf({ type: 'closed' }, [])).toEqual({ metadata: {}, status: 'Success' });
    expect(statusOf({ type: 'exit', code: 42 }, ['sh', '-c', 'exit 42'])).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '42' }] },
    });
    expect(statusOf({ type: 'error', message: 'container "c" is not running' }, [])).toMatchObject({
      status: 'Failure',
      message: 'container "c" is not running',
    });
  });

  it('streams metrics — the node of a nodes/proxy name and of a Host header', () => {
    expect(nodeProxyName('edge-a')).toBe('edge-a');
    expect(nodeProxyName('edge-a:10250')).toBe('edge-a');
    expect(nodeProxyName('https:edge-a:10250')).toBe('edge-a');
    expect(nodeProxyName('a:b:c:d')).toBe('');
    expect(hostOnly('10.213.0.2:10353')).toBe('10.213.0.2');
    expect(hostOnly('10.213.0.2')).toBe('10.213.0.2');
    expect(hostOnly('[fd00::2]:10353')).toBe('fd00::2');
    expect(hostOnly('fd00::2')).toBe('fd00::2');
  });

  it('streams metrics — a metrics open validates at the boundary: known paths only, target without a pod', () => {
    const open = (what: unknown, target: unknown = { namespace: '', pod: '' }) =>
      validateEnvelope({
        v: 1,
        id: 'm1',
        ts: 1,
        kind: 'streamOpen',
        stream: 's1',
        target,
        what,
        window: 1024,
      });
    expect(open({ type: 'metrics', path: '/metrics/resource' }).ok).toBe(true);
    expect(open({ type: 'metrics', path: '/metrics/cadvisor' }).ok).toBe(false);
    expect(open({ type: 'metrics' }).ok).toBe(false);
    // a pod stream still needs its pod
    expect(open({ type: 'portForward', port: 80 }).ok).toBe(false);
    expect(open({ type: 'portForward', port: 80 }, { namespace: 'default', pod: 'p' }).ok).toBe(true);
  });
});
