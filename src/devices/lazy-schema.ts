import type { z } from 'zod';

/**
 * A zod schema built on first use and not kept (issue 12 target 1, the edge's footprint).
 *
 * A classic zod schema is an object with ~50 own closures and its `_zod` internals; the agent's
 * config and Device schemas are ~1,100 of them, and as module constants they stayed live for the
 * life of the process although each is used for one parse at start (configuration) or when a
 * Device arrives. The value returned here stands for the schema everywhere a schema goes (it
 * forwards every property read to it, `instanceof` included), builds it with `build` when it is
 * first read and holds it only through a WeakRef: between two garbage collections it is built
 * once, after one it is built again on the next read. So the schema, its closures and zod's
 * bytecode for building it can be collected while nothing parses, and validation (messages,
 * defaults, types) is exactly what `build` returns.
 *
 * Schemas built from other schemas should call the other's builder, not read its lazy value, so
 * that a parent holds its children itself.
 */
export function lazySchema<S extends z.ZodType>(build: () => S): S {
  let ref: WeakRef<S> | undefined;
  const schema = (): S => {
    let s = ref?.deref();
    if (s === undefined) {
      s = build();
      ref = new WeakRef(s);
    }
    return s;
  };
  // The target is a blank object: the traps below answer for the real schema. No ownKeys or
  // getOwnPropertyDescriptor traps: nothing enumerates a schema's own properties (zod reads
  // `_zod` and calls methods, and the methods close over the real schema).
  return new Proxy({} as S, {
    get: (_t, p) => Reflect.get(schema(), p) as unknown,
    has: (_t, p) => Reflect.has(schema(), p),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  });
}
