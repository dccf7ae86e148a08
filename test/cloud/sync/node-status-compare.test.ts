import { describe, expect, it } from 'vitest';
import { quantity, statusUnchanged } from '../../../src/cloud/kube/index.js';

const NOW = Date.parse('2026-11-27T00:10:00Z');
const cond = (type: string, status: string, beat: string) => ({
  type,
  status,
  reason: 'R',
  message: 'm',
  lastHeartbeatTime: beat,
  lastTransitionTime: '2026-11-26T00:00:00Z',
});
const status = (beat: string, ready = 'True', memory = '8140800Ki') => ({
  capacity: { cpu: '4', memory, pods: '110' },
  conditions: [cond('MemoryPressure', 'False', beat), cond('Ready', ready, beat)],
  nodeInfo: { kubeletVersion: 'v1.33.0-tether.0.1.0' },
});

describe('cloud/kube node status compare (issue 12: reconnects re-report unchanged status)', () => {
  it('node status — quantities compare by amount, as the API server canonicalises them', () => {
    expect(quantity('8140800Ki')).toBe(quantity('7950Mi'));
    expect(quantity('1.5Gi')).toBe(quantity('1536Mi'));
    expect(quantity('100m')).toBe(quantity('0.1'));
    expect(quantity('1e3')).toBe(quantity('1k'));
    expect(quantity('1E')).not.toBe(quantity('1'));
    expect(quantity('4')).not.toBe(quantity('4k'));
    expect(quantity('abc')).toBe('abc');
  });

  it('node status — equal but for heartbeat times and quantity spelling: unchanged while the stored heartbeat is fresh', () => {
    const stored = { ...status('2026-11-27T00:08:00Z', 'True', '7950Mi'), extra: { kept: true } };
    const incoming = status('2026-11-27T00:10:00Z');
    expect(statusUnchanged(stored, incoming, 240_000, NOW)).toBe(true);
    // Date instances (listed objects) count as their RFC 3339 text
    const withDates = {
      ...stored,
      conditions: stored.conditions.map((c) => ({ ...c, lastHeartbeatTime: new Date(c.lastHeartbeatTime) })),
    };
    expect(statusUnchanged(withDates, incoming, 240_000, NOW)).toBe(true);
  });

  it('node status — a changed condition, a stale stored heartbeat or a missing field is a change', () => {
    const incoming = status('2026-11-27T00:10:00Z');
    expect(statusUnchanged(status('2026-11-27T00:08:00Z', 'Unknown'), incoming, 240_000, NOW)).toBe(false);
    expect(statusUnchanged(status('2026-11-27T00:04:00Z'), incoming, 240_000, NOW)).toBe(false);
    const { nodeInfo: _n, ...partial } = status('2026-11-27T00:08:00Z');
    expect(statusUnchanged(partial, incoming, 240_000, NOW)).toBe(false);
    expect(statusUnchanged(status('2026-11-27T00:08:00Z', 'True', '8Gi'), incoming, 240_000, NOW)).toBe(
      false,
    );
    expect(statusUnchanged(undefined, incoming, 240_000, NOW)).toBe(false);
  });
});
