import { unwrap, type ZodLike } from './config-check.js';

/**
 * The reference tables of docs/configuration.md, generated from the zod schemas so docs and
 * code cannot disagree (test/cli/config.test.ts compares them): one row per leaf field with
 * its type and default. Descriptions are the docs' own column, kept by `tether config docs`.
 */
export interface FieldRow {
  path: string;
  type: string;
  default: string;
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function typeOf(s: ZodLike): string {
  const { core } = unwrap(s);
  const d = core._zod.def;
  switch (d.type) {
    case 'string':
    case 'number':
    case 'boolean':
      return d.type;
    case 'enum':
      return Object.values(d.entries ?? {})
        .map((v) => show(v))
        .join(' \\| ');
    case 'literal':
      return (d.values ?? []).map((v) => show(v)).join(' \\| ');
    case 'array':
      return d.element === undefined ? 'list' : `list of ${typeOf(d.element)}`;
    case 'record':
      return d.valueType === undefined ? 'map' : `map of ${typeOf(d.valueType)}`;
    case 'object':
      return 'object';
    case 'union':
      return (d.options ?? []).map((o) => typeOf(o)).join(' \\| ');
    default:
      return d.type;
  }
}

function isLeaf(core: ZodLike): boolean {
  const d = core._zod.def;
  if (d.type === 'object' || d.type === 'union') return false;
  if (d.type === 'record' && d.valueType !== undefined)
    return unwrap(d.valueType).core._zod.def.type !== 'object';
  return true;
}

function defaultText(s: ZodLike, parentDefault: unknown, parentOptional: boolean, key: string): string {
  const u = unwrap(s);
  if ('default' in u) return `\`${show(u.default)}\``;
  // a field inside a defaulted object (health.rule, devices.bus) takes the object's default
  if (parentDefault !== null && typeof parentDefault === 'object' && key in parentDefault)
    return `\`${show((parentDefault as Record<string, unknown>)[key])}\``;
  if (u.optional || parentOptional || parentDefault !== undefined) return '(unset)';
  return 'required';
}

/** Leaf rows of a schema; union options merge by path (the discriminator lists every value). */
export function fieldRows(
  schema: ZodLike,
  prefix = '',
  parentOptional = false,
  inheritedDefault?: unknown,
): FieldRow[] {
  const u = unwrap(schema);
  const d = u.core._zod.def;
  const rows: FieldRow[] = [];
  const own = 'default' in u ? u.default : inheritedDefault;
  const optional = parentOptional || (u.optional && !('default' in u));
  if (d.type === 'object') {
    for (const [k, child] of Object.entries(d.shape ?? {})) {
      const path = prefix === '' ? k : `${prefix}.${k}`;
      if (isLeaf(unwrap(child).core))
        rows.push({ path, type: typeOf(child), default: defaultText(child, own, optional, k) });
      else {
        const sub = own !== null && typeof own === 'object' ? (own as Record<string, unknown>)[k] : undefined;
        rows.push(...fieldRows(child, path, optional, sub));
      }
    }
  } else if (d.type === 'record' && d.valueType !== undefined) {
    rows.push(...fieldRows(d.valueType, `${prefix}.<name>`, true));
  } else if (d.type === 'union') {
    const merged = new Map<string, FieldRow>();
    for (const o of d.options ?? [])
      for (const r of fieldRows(o, prefix, optional, own)) {
        const prev = merged.get(r.path);
        if (prev === undefined) merged.set(r.path, r);
        else if (prev.type !== r.type) prev.type = `${prev.type} \\| ${r.type}`;
      }
    rows.push(...merged.values());
  }
  return rows;
}

/** Markdown table; `descriptions` (path → text) fills the last column. */
export function fieldTable(rows: readonly FieldRow[], descriptions: ReadonlyMap<string, string>): string {
  return [
    '| field | type | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.path}\` | ${r.type} | ${r.default} | ${descriptions.get(r.path) ?? ''} |`),
  ].join('\n');
}

/** Rows already in a markdown file's tables (for keeping descriptions, and for the docs test). */
export function parseFieldTable(md: string): Map<string, FieldRow & { meaning: string }> {
  const out = new Map<string, FieldRow & { meaning: string }>();
  for (const line of md.split('\n')) {
    const m = /^\| `([^`]+)` \| (.*?) \| (.*?) \| (.*?) \|$/.exec(line);
    if (m === null) continue;
    const [, path = '', type = '', dflt = '', meaning = ''] = m;
    out.set(path, { path, type, default: dflt, meaning });
  }
  return out;
}
