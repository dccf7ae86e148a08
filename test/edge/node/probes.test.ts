import { describe, expect, it } from 'vitest';
import { edgeProbes, NoMeasurementError } from '../../../src/edge/health/probes.js';

const signal = (): AbortSignal => new AbortController().signal;

describe('edge/health probes of the edge components', () => {
  it('edge/health probes — runtime is up when CRI Version answers and down when it fails', async () => {
    let answer = true;
    const p = edgeProbes({
      runtime: { version: () => (answer ? Promise.resolve({}) : Promise.reject(new Error('ENOENT'))) },
    });
    expect(await p.runtime?.(signal())).toBe(true);
    answer = false;
    expect(await p.runtime?.(signal())).toBe(false);
  });

  it('edge/health probes — a link not started yet is unknown; offline is down and has no RTT or skew', async () => {
    const link: { state: string; rtt: { rttMs: number; skewMs: number } | undefined } = {
      state: 'idle',
      rtt: undefined,
    };
    const p = edgeProbes({ link });
    await expect(p.cloudLink?.(signal())).rejects.toBeInstanceOf(NoMeasurementError);
    link.state = 'backoff';
    expect(await p.cloudLink?.(signal())).toBe(false);
    await expect(p.cloudRtt?.(signal())).rejects.toBeInstanceOf(NoMeasurementError);
    link.state = 'online';
    link.rtt = { rttMs: 12, skewMs: -340 };
    expect(await p.cloudLink?.(signal())).toBe(true);
    expect(await p.cloudRtt?.(signal())).toBe(12);
    expect(await p.clockSkew?.(signal())).toBe(-340);
  });

  it('edge/health probes — a store that cannot run its check is not intact; a bus not started is unknown', async () => {
    const p = edgeProbes({
      store: {
        integrityOk: () => {
          throw new Error('database is locked');
        },
      },
      bus: { health: () => ({ running: false, busConnected: false }) },
    });
    expect(await p.store?.(signal())).toBe(false);
    await expect(p.mqtt?.(signal())).rejects.toBeInstanceOf(NoMeasurementError);
    const up = edgeProbes({ bus: { health: () => ({ running: true, busConnected: true }) } });
    expect(await up.mqtt?.(signal())).toBe(true);
  });
});
