import type { ModelProperty, PropertyType } from './types.js';

/** A property value as the device and the mappers see it. */
export type Value = number | boolean | string;

export type ValueCheck = { ok: true; value: Value } | { ok: false; reason: string };

/**
 * Parses the wire form (a string, as in KubeEdge twins) into a typed value and checks the
 * model's minimum/maximum (issue 9: out-of-range desired values are rejected with a reason).
 */
export function parseValue(
  prop: Pick<ModelProperty, 'name' | 'type' | 'minimum' | 'maximum'>,
  raw: string,
): ValueCheck {
  let v: Value;
  switch (prop.type) {
    case 'int': {
      if (!/^[-+]?\d+$/.test(raw.trim()))
        return { ok: false, reason: `${prop.name}: "${raw}" is not an int` };
      v = Number(raw);
      if (!Number.isSafeInteger(v))
        return { ok: false, reason: `${prop.name}: ${raw} is outside the safe integer range` };
      break;
    }
    case 'float': {
      const t = raw.trim();
      v = t === '' ? NaN : Number(t);
      if (!Number.isFinite(v)) return { ok: false, reason: `${prop.name}: "${raw}" is not a finite number` };
      break;
    }
    case 'boolean': {
      const t = raw.trim().toLowerCase();
      if (t !== 'true' && t !== 'false')
        return { ok: false, reason: `${prop.name}: "${raw}" is not true or false` };
      v = t === 'true';
      break;
    }
    case 'string':
      v = raw;
      break;
  }
  if (typeof v === 'number') {
    if (prop.minimum !== undefined && v < prop.minimum)
      return { ok: false, reason: `${prop.name}: ${raw} is below the minimum ${String(prop.minimum)}` };
    if (prop.maximum !== undefined && v > prop.maximum)
      return { ok: false, reason: `${prop.name}: ${raw} is above the maximum ${String(prop.maximum)}` };
  }
  return { ok: true, value: v };
}

/** The wire form of a value, normalised for its type (floats without binary noise). */
export function formatValue(type: PropertyType, v: Value): string {
  switch (type) {
    case 'int':
      return String(Math.round(Number(v)));
    case 'float':
      return typeof v === 'number' ? String(Number(v.toPrecision(12))) : String(v);
    case 'boolean':
      return String(v === true || v === 'true' || v === 1);
    case 'string':
      return String(v);
  }
}

/** Whether two wire values mean the same (so "25" and "25.0" of a float agree). */
export function sameValue(type: PropertyType, a: string, b: string): boolean {
  if (a === b) return true;
  switch (type) {
    case 'int':
    case 'float': {
      const x = Number(a);
      const y = Number(b);
      if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
      // float32 registers and scaling round-trip with relative error ~1e-7
      return Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y));
    }
    case 'boolean':
      return a.trim().toLowerCase() === b.trim().toLowerCase();
    case 'string':
      return false;
  }
}
