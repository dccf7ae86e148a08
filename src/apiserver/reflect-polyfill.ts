/**
 * The part of the Reflect Metadata API that tsyringe (a dependency of @peculiar/x509)
 * requires before it loads. `reflect-metadata` is not among our dependencies; this
 * minimal, WeakMap-backed stand-in is imported before @peculiar/x509 (ESM evaluates
 * imports in order). Replace with `import 'reflect-metadata'` if that package is added.
 */
type Key = unknown;
type Prop = string | symbol | undefined;
const store = new WeakMap<object, Map<Prop, Map<Key, unknown>>>();

function own(target: object, prop: Prop, create: boolean): Map<Key, unknown> | undefined {
  let byProp = store.get(target);
  if (byProp === undefined) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let m = byProp.get(prop);
  if (m === undefined && create) {
    m = new Map();
    byProp.set(prop, m);
  }
  return m;
}

interface ReflectMetadata {
  defineMetadata(k: Key, v: unknown, target: object, prop?: Prop): void;
  getOwnMetadata(k: Key, target: object, prop?: Prop): unknown;
  getMetadata(k: Key, target: object, prop?: Prop): unknown;
  hasOwnMetadata(k: Key, target: object, prop?: Prop): boolean;
  hasMetadata(k: Key, target: object, prop?: Prop): boolean;
  metadata(k: Key, v: unknown): (target: object, prop?: Prop) => void;
}

const R = Reflect as unknown as Partial<ReflectMetadata>;
if (typeof R.getMetadata !== 'function') {
  const api: ReflectMetadata = {
    defineMetadata(k, v, target, prop) {
      own(target, prop, true)?.set(k, v);
    },
    getOwnMetadata(k, target, prop) {
      return own(target, prop, false)?.get(k);
    },
    getMetadata(k, target, prop) {
      for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
        const m = own(t, prop, false);
        if (m?.has(k) === true) return m.get(k);
      }
      return undefined;
    },
    hasOwnMetadata(k, target, prop) {
      return own(target, prop, false)?.has(k) === true;
    },
    hasMetadata(k, target, prop) {
      for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null)
        if (own(t, prop, false)?.has(k) === true) return true;
      return false;
    },
    metadata(k, v) {
      return (target, prop) => {
        own(target, prop, true)?.set(k, v);
      };
    },
  };
  Object.assign(Reflect, api);
}

export {};
