import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deviceSchema, lazySchema, setCondition } from '../../src/devices/index.js';

// a full GC from inside the test (the flag must be set before the context that reads `gc`)
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const nextTurn = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('devices/lazy-schema', () => {
  it('devices — a lazy schema is built on its first read, parses and fails as the schema itself', () => {
    let builds = 0;
    const build = () => {
      builds++;
      return z.strictObject({ name: z.string().min(1), port: z.number().int().default(1883) });
    };
    const lazy = lazySchema(build);
    expect(builds).toBe(0);
    expect(lazy.parse({ name: 'a' })).toEqual({ name: 'a', port: 1883 });
    expect(builds).toBe(1);
    const bad = { name: '', extra: 1 };
    expect(lazy.safeParse(bad).error?.issues).toEqual(build().safeParse(bad).error?.issues);
    expect(lazy instanceof z.ZodObject).toBe(true);
    expect(lazy.shape.port.parse(undefined)).toBe(1883);
    // as a part of other schemas, with the methods that wrap it
    const outer = z.object({ a: lazy, b: lazy.optional(), c: lazy.prefault({ name: 'c' }) });
    expect(outer.parse({ a: { name: 'x' } })).toEqual({
      a: { name: 'x', port: 1883 },
      c: { name: 'c', port: 1883 },
    });
    expect(outer.safeParse({ a: { name: 1 } }).success).toBe(false);
  });

  it('devices — a lazy schema nothing holds is collected by a full GC and built again on the next read', async () => {
    let builds = 0;
    const lazy = lazySchema(() => {
      builds++;
      return z.object({ v: z.string() });
    });
    expect(lazy.parse({ v: 'x' })).toEqual({ v: 'x' });
    await nextTurn(); // a WeakRef's target is kept until the end of the job that read it
    gc();
    expect(lazy.parse({ v: 'y' })).toEqual({ v: 'y' });
    expect(builds).toBe(2);
    // while something holds the schema (a parent schema here), it is not rebuilt
    const parent = z.object({ child: lazy.optional() });
    await nextTurn();
    gc();
    expect(parent.parse({ child: { v: 'z' } })).toEqual({ child: { v: 'z' } });
    expect(lazy.parse({ v: 'w' })).toEqual({ v: 'w' });
    expect(builds).toBe(2);
  });

  it('devices — the exported Device schema validates through its lazy value; conditions sort by type', () => {
    const r = deviceSchema.safeParse({
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'Device',
      metadata: {},
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['metadata.name', 'spec']),
    );
    const now = new Date('2026-11-27T06:00:00Z');
    const c = setCondition(
      setCondition([], { type: 'Synced', status: 'True', reason: 'Synced' }, now),
      { type: 'Online', status: 'True', reason: 'Read' },
      now,
    );
    expect(c.map((x) => x.type)).toEqual(['Online', 'Synced']);
  });
});
