/**
 * typed.Merge (applied configuration over the live object) and RemoveItems, following
 * structured-merge-diff's merge walker: maps merge per key, list maps and sets merge per item
 * (keeping the live order and placing new items where the configuration puts them), atomic
 * lists and scalars are replaced. A null in the configuration removes the field (the typed
 * object upstream converts to has no field for it).
 */
import { clone, isObject } from '../meta.js';
import type { JsonObject } from '../storage/types.js';
import { itemElement, itemElements, split } from './fieldset.js';
import type { Shape } from './shape.js';

export function mergeValue(live: unknown, config: unknown, shape: Shape): unknown {
  if (isObject(config) && isObject(live) && !shape.atomicMap) return mergeObject(live, config, shape);
  if (Array.isArray(config) && Array.isArray(live) && shape.list.type !== 'atomic')
    return mergeList(live, config, shape) ?? clone(config);
  return clone(config);
}

export function mergeObject(live: JsonObject, config: JsonObject, shape: Shape): JsonObject {
  const out: JsonObject = { ...live };
  for (const [k, v] of Object.entries(config)) {
    if (v === undefined) continue;
    if (v === null) {
      Reflect.deleteProperty(out, k);
      continue;
    }
    out[k] = k in live ? mergeValue(live[k], v, shape.child(k)) : clone(v);
  }
  return out;
}

/** mergingWalker.visitListItems; undefined when an item cannot be keyed (then: replace). */
function mergeList(lhs: readonly unknown[], rhs: readonly unknown[], shape: Shape): unknown[] | undefined {
  const lPEs = itemElements(lhs, shape.list);
  const rPEs = itemElements(rhs, shape.list);
  if (lPEs === undefined || rPEs === undefined) return undefined;
  const itemShape = shape.item();
  const lIndex = new Map<string, number>();
  lPEs.forEach((pe, i) => lIndex.set(pe, i));
  const rIndex = new Map<string, number>();
  rPEs.forEach((pe, i) => rIndex.set(pe, i));
  const mergeItem = (pe: string): unknown => {
    const l = lIndex.has(pe) ? lhs[lIndex.get(pe) ?? 0] : undefined;
    const r = rhs[rIndex.get(pe) ?? 0];
    return l === undefined ? clone(r) : mergeValue(l, r, itemShape);
  };
  const shared = rPEs.filter((pe) => lIndex.has(pe));
  let nextShared = shared.shift();
  const merged = new Set<string>();
  const out: unknown[] = [];
  let lI = 0;
  let rI = 0;
  while (lI < lPEs.length || rI < rPEs.length) {
    if (lI < lPEs.length && rI < rPEs.length) {
      const pe = lPEs[lI] ?? '';
      if (pe === rPEs[rI]) {
        merged.add(pe);
        out.push(mergeItem(pe));
        lI++;
        rI++;
        nextShared = shared.shift();
        continue;
      }
      if (rIndex.has(pe) && nextShared !== undefined && nextShared !== pe) {
        lI++; // a shared item, but not the one due in this round
        continue;
      }
    }
    if (lI < lPEs.length) {
      const pe = lPEs[lI] ?? '';
      if (!rIndex.has(pe)) {
        out.push(lhs[lI]);
        lI++;
        continue;
      }
      if (merged.has(pe)) {
        lI++;
        continue;
      }
    }
    if (rI < rPEs.length) {
      const pe = rPEs[rI] ?? '';
      merged.add(pe);
      out.push(mergeItem(pe));
      rI++;
      if (nextShared === pe) nextShared = shared.shift();
    }
  }
  return out;
}

/** Removes the member at `path` from `obj` (in place); a missing path is not an error. */
export function removePath(obj: JsonObject, path: string, shape: Shape): void {
  const pes = split(path);
  let cur: unknown = obj;
  let s = shape;
  // The maps walked through by field name, to drop those the removal leaves empty (Go's
  // omitempty would not write them either).
  const parents: [JsonObject, string][] = [];
  const dropEmpty = (): void => {
    for (let j = parents.length - 1; j >= 0; j--) {
      const [p, name] = parents[j] ?? [{}, ''];
      const v = p[name];
      if (!isObject(v) || Object.keys(v).length > 0) return;
      Reflect.deleteProperty(p, name);
    }
  };
  for (let i = 0; i < pes.length; i++) {
    const pe = pes[i] ?? '';
    const last = i === pes.length - 1;
    if (pe.startsWith('f:')) {
      if (!isObject(cur)) return;
      const name = pe.slice(2);
      if (last) {
        Reflect.deleteProperty(cur, name);
        dropEmpty();
        return;
      }
      parents.push([cur, name]);
      cur = cur[name];
      s = s.child(name);
      continue;
    }
    const owner = parents.at(-1);
    parents.length = 0;
    if (!Array.isArray(cur)) return;
    const list = cur;
    const idx = list.findIndex((it) => itemElement(it, s.list) === pe);
    if (idx < 0) return;
    if (last) {
      list.splice(idx, 1);
      // an emptied list is dropped like an empty map (omitempty)
      if (list.length === 0 && owner !== undefined) {
        Reflect.deleteProperty(owner[0], owner[1]);
      }
      return;
    }
    cur = list[idx];
    s = s.item();
  }
}
