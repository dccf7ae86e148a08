/**
 * The JSONPath subset CRD additionalPrinterColumns use (k8s.io/client-go/util/jsonpath with
 * AllowMissingKeys): `.a.b`, `.a[0].b`, `['a.b']`, `[*]`, and filters
 * `[?(@.type=="Ready")]` (==, !=). A column reads the first result only.
 */

type Step =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' }
  | {
      readonly kind: 'filter';
      readonly path: readonly string[];
      readonly op: '==' | '!=';
      readonly value: unknown;
    };

export type JsonPath = readonly Step[];

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse `{.a.b}` or `.a.b`; undefined when the expression is outside the subset. */
export function parseJsonPath(expr: string): JsonPath | undefined {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  const ident = (): string => {
    let name = '';
    while (i < s.length) {
      const c = s.charAt(i);
      if (c === '\\' && i + 1 < s.length) {
        name += s.charAt(i + 1);
        i += 2;
        continue;
      }
      if (c === '.' || c === '[') break;
      name += c;
      i++;
    }
    return name;
  };
  while (i < s.length) {
    const c = s.charAt(i);
    if (c === '.') {
      i++;
      if (s.charAt(i) === '.' || s.charAt(i) === '') return undefined; // recursive descent unsupported
      const name = ident();
      if (name === '*') steps.push({ kind: 'wildcard' });
      else if (name !== '') steps.push({ kind: 'field', name });
      continue;
    }
    if (c !== '[') return undefined;
    const end = s.indexOf(']', i);
    if (end < 0) return undefined;
    const inner = s.slice(i + 1, end).trim();
    i = end + 1;
    if (inner === '*') {
      steps.push({ kind: 'wildcard' });
    } else if (/^-?\d+$/.test(inner)) {
      steps.push({ kind: 'index', index: Number(inner) });
    } else if (/^'[^']*'$|^"[^"]*"$/.test(inner)) {
      steps.push({ kind: 'field', name: inner.slice(1, -1) });
    } else {
      const m = /^\?\(\s*@((?:\.[A-Za-z0-9_-]+)+)\s*(==|!=)\s*(.+?)\s*\)$/.exec(inner);
      if (m === null) return undefined;
      const [, path = '', op = '==', lit = ''] = m;
      let value: unknown;
      if (/^'.*'$|^".*"$/.test(lit)) value = lit.slice(1, -1);
      else if (lit === 'true' || lit === 'false') value = lit === 'true';
      else if (!Number.isNaN(Number(lit))) value = Number(lit);
      else return undefined;
      steps.push({ kind: 'filter', path: path.slice(1).split('.'), op: op as '==' | '!=', value });
    }
  }
  return steps;
}

function get(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const p of path) {
    if (!isMap(cur) || !Object.hasOwn(cur, p)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** All results of `path` in `obj` (missing keys yield no result, like AllowMissingKeys). */
export function findResults(obj: unknown, path: JsonPath): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of path) {
    const next: unknown[] = [];
    for (const v of cur) {
      switch (step.kind) {
        case 'field':
          if (isMap(v) && Object.hasOwn(v, step.name)) next.push(v[step.name]);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const idx = step.index < 0 ? v.length + step.index : step.index;
            if (idx >= 0 && idx < v.length) next.push(v[idx]);
          }
          break;
        case 'wildcard':
          if (Array.isArray(v)) next.push(...(v as unknown[]));
          else if (isMap(v)) next.push(...Object.values(v));
          break;
        case 'filter':
          if (Array.isArray(v)) {
            for (const item of v as unknown[]) {
              const got = get(item, step.path);
              const eq = got === step.value;
              if (got !== undefined && (step.op === '==' ? eq : !eq)) next.push(item);
            }
          }
          break;
      }
    }
    cur = next;
  }
  return cur;
}
