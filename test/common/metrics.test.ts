import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/common/index.js';

describe('common/metrics — default metrics', () => {
  it('createRegistry — process and Node.js defaults with the tether_ prefix, without the per-handle walks (issue 12)', async () => {
    const names = (await createRegistry({ defaultMetrics: true }).metrics())
      .split('\n')
      .filter((l) => l.startsWith('# TYPE '))
      .map((l) => l.split(' ')[2]);
    expect(names).toEqual(
      expect.arrayContaining([
        'tether_process_open_fds',
        'tether_process_max_fds',
        'tether_process_resident_memory_bytes',
        'tether_nodejs_eventloop_lag_p99_seconds',
        'tether_nodejs_heap_size_used_bytes',
      ]),
    );
    expect(names.filter((n) => /active_(handles|requests|resources)/.test(n ?? ''))).toEqual([]);
    expect(await createRegistry().metrics()).toBe('\n');
  });
});
