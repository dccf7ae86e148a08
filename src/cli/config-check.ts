import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../common/index.js';

/**
 * Configuration files checked with positions (issue 11 "precise error messages"): every problem
 * names its YAML path and line:column, and an unknown key gets a "did you mean …?" when a known
 * key is close. Works on any zod schema by walking its definition (zod 4 `_zod.def`).
 */

export interface ConfigProblem {
  /** dotted path, `[i]` for list items; '' for the whole file */
  path: string;
  line: number;
  column: number;
  message: string;
}

/** The few fields of zod 4's internal definitions we walk (not exported as types by zod). */
interface Def {
  type: string;
  innerType?: ZodLike;
  in?: ZodLike;
  shape?: Record<string, ZodLike>;
  valueType?: ZodLike;
  keyType?: ZodLike;
  element?: ZodLike;
  options?: ZodLike[];
  entries?: Record<string, string | number>;
  values?: unknown[];
  defaultValue?: unknown;
  discriminator?: string;
}
export interface ZodLike {
  _zod: { def: Def };
}
const def = (s: ZodLike): Def => s._zod.def;

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** Strips default/optional/pipe wrappers; returns the core schema and the default found on the way. */
export function unwrap(s: ZodLike): { core: ZodLike; default?: unknown; optional: boolean } {
  let cur = s;
  let dflt: { v: unknown } | undefined;
  let optional = false;
  for (let i = 0; i < 20; i++) {
    const d = def(cur);
    if (d.type === 'default' || d.type === 'prefault') {
      dflt ??= { v: d.defaultValue };
      optional = true;
    }
    if (d.type === 'optional') optional = true;
    if (WRAPPERS.has(d.type) && d.innerType !== undefined) cur = d.innerType;
    else if (d.type === 'pipe' && d.in !== undefined) cur = d.in;
    else break;
  }
  return dflt === undefined ? { core: cur, optional } : { core: cur, default: dflt.v, optional };
}

/** The object schemas that may sit at `path` of `raw` (several for a union we cannot decide). */
function objectsAt(schema: ZodLike, path: readonly PropertyKey[], raw: unknown): ZodLike[] {
  const { core } = unwrap(schema);
  const d = def(core);
  if (d.type === 'union') {
    const opts = d.options ?? [];
    const disc = d.discriminator;
    if (disc !== undefined && raw !== null && typeof raw === 'object') {
      const v = (raw as Record<string, unknown>)[disc];
      const chosen = opts.filter((o) => {
        const lit = def(unwrap(def(unwrap(o).core).shape?.[disc] ?? o).core);
        return lit.type === 'literal' && lit.values?.includes(v);
      });
      if (chosen.length > 0) return chosen.flatMap((o) => objectsAt(o, path, raw));
    }
    return opts.flatMap((o) => objectsAt(o, path, raw));
  }
  if (path.length === 0) return d.type === 'object' ? [core] : [];
  const [head, ...rest] = path;
  const child =
    raw !== null && typeof raw === 'object'
      ? (raw as Record<PropertyKey, unknown>)[head as string]
      : undefined;
  if (d.type === 'object') {
    const next = d.shape?.[String(head)];
    return next === undefined ? [] : objectsAt(next, rest, child);
  }
  if (d.type === 'record' && d.valueType !== undefined) return objectsAt(d.valueType, rest, child);
  if (d.type === 'array' && d.element !== undefined) return objectsAt(d.element, rest, child);
  return [];
}

/** Keys the schema accepts at `path` (for "did you mean"). */
export function keysAt(schema: ZodLike, path: readonly PropertyKey[], raw: unknown): string[] {
  return [...new Set(objectsAt(schema, path, raw).flatMap((o) => Object.keys(def(o).shape ?? {})))];
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] ?? 0;
      prev[j] = Math.min(up + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] ?? 0;
}

/** The closest known key, if close enough to be a typo. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : distance(key, k);
    if (best === undefined || d < best.d) best = { k, d };
  }
  return best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.k : undefined;
}

const pathText = (p: readonly PropertyKey[]): string =>
  p.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? String(k) : `${s}.${String(k)}`),
    '',
  );

/** Position of the deepest node of `path` present in the document (a missing key → its parent). */
function position(
  doc: Document,
  lc: LineCounter,
  path: readonly PropertyKey[],
  unknownKey?: string,
): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const p = path.slice(0, n);
    const node = (n === 0 ? doc.contents : doc.getIn(p as unknown[], true)) as Node | null | undefined;
    if (node === null || node === undefined) continue;
    if (unknownKey !== undefined && n === path.length && isMap(node)) {
      const pair = node.items.find(
        (it) => isPair(it) && isScalar(it.key) && String(it.key.value) === unknownKey,
      );
      const k = pair?.key as Node | undefined;
      if (k?.range !== undefined && k.range !== null) {
        const lp = lc.linePos(k.range[0]);
        return { line: lp.line, column: lp.col };
      }
    }
    if (node.range !== undefined && node.range !== null) {
      const lp = lc.linePos(node.range[0]);
      return { line: lp.line, column: lp.col };
    }
  }
  return { line: 1, column: 1 };
}

/** Every problem of `text` against `schema`, with positions; an empty list means valid. */
export function checkConfigText(
  text: string,
  schema: z.ZodType,
): { problems: ConfigProblem[]; value?: unknown } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    return {
      problems: doc.errors.map((e) => ({
        path: '',
        line: e.linePos?.[0].line ?? 1,
        column: e.linePos?.[0].col ?? 1,
        message: `not valid YAML: ${e.message.split('\n')[0] ?? e.code}`,
      })),
    };
  const raw: unknown = doc.toJS() ?? {};
  const r = schema.safeParse(raw);
  if (r.success) return { problems: [], value: r.data };
  const problems: ConfigProblem[] = [];
  for (const issue of r.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, issue.path, raw);
      for (const key of issue.keys) {
        const hint = suggest(key, known);
        problems.push({
          path: pathText([...issue.path, key]),
          ...position(doc, lc, issue.path, key),
          message:
            `unknown key "${key}"` +
            (hint === undefined ? '' : ` — did you mean "${hint}"?`) +
            (known.length > 0 && hint === undefined ? ` (known here: ${known.join(', ')})` : ''),
        });
      }
      continue;
    }
    const present = doc.hasIn(issue.path as unknown[]);
    problems.push({
      path: pathText(issue.path),
      ...position(doc, lc, issue.path),
      message:
        present || issue.path.length === 0
          ? issue.message
          : issue.code === 'invalid_type'
            ? `missing: this field is required (${issue.expected})`
            : issue.message,
    });
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { problems };
}

export function formatProblems(file: string, problems: readonly ConfigProblem[]): string[] {
  return problems.map(
    (p) => `${file}:${p.line}:${p.column}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`,
  );
}

/**
 * Reads and validates a configuration file; throws a ConfigError listing each problem as
 * `file:line:col: path: message` (what `tether cloud`/`edge run` print before refusing to start).
 */
export function loadConfigFile<S extends z.ZodType>(path: string, schema: S, what: string): z.output<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the ${what} configuration file ${path}: ${(e as Error).message}`, [], {
      cause: e,
    });
  }
  const { problems, value } = checkConfigText(text, schema);
  if (problems.length > 0) {
    const lines = formatProblems(path, problems);
    throw new ConfigError(
      `invalid ${what} configuration (fix these, then check with \`tether config validate ${path}\`):\n  ${lines.join('\n  ')}`,
      lines,
    );
  }
  return Object.freeze(value) as z.output<S>;
}
