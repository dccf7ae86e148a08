import type { Result } from '../../common/index.js';
import { err, ok } from '../../common/index.js';

/**
 * Label and field selectors with the grammar of k8s.io/apimachinery (labels.Parse,
 * fields.ParseSelector), so a selector that works against the cloud works here too. Parse errors
 * are values: the metaserver answers them with 400 and the message, never a crash.
 */

export type LabelRequirement =
  | { readonly op: 'exists' | 'notexists'; readonly key: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'gt' | 'lt'; readonly key: string; readonly value: number };

export type LabelSelector = readonly LabelRequirement[];

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/u;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/u;

function checkKey(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `invalid label key "${key}": the prefix must be a DNS subdomain`;
  if (name.length === 0 || name.length > 63 || !NAME.test(name))
    return `invalid label key "${key}": the name part must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`;
  return undefined;
}

function checkValue(v: string): string | undefined {
  if (v === '') return undefined;
  if (v.length > 63 || !NAME.test(v))
    return `invalid label value "${v}": at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`;
  return undefined;
}

type Token =
  | { t: 'id'; v: string }
  | { t: 'op'; v: '=' | '==' | '!=' | '!' | '>' | '<' }
  | { t: '(' }
  | { t: ')' }
  | { t: ',' }
  | { t: 'end' };

function tokenize(s: string): Result<Token[], string> {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    if (/\s/u.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: c });
      i++;
    } else if (c === '=' || c === '!' || c === '>' || c === '<') {
      if ((c === '=' || c === '!') && s[i + 1] === '=') {
        out.push({ t: 'op', v: c === '=' ? '==' : '!=' });
        i += 2;
      } else {
        out.push({ t: 'op', v: c });
        i++;
      }
    } else {
      let j = i;
      while (j < s.length && !/[\s(),=!<>]/u.test(s[j] ?? '')) j++;
      out.push({ t: 'id', v: s.slice(i, j) });
      i = j;
    }
  }
  out.push({ t: 'end' });
  return ok(out);
}

/** Parses a label selector; the empty string selects everything. */
export function parseLabelSelector(input: string): Result<LabelSelector, string> {
  const toks = tokenize(input);
  if (!toks.ok) return toks;
  const t = toks.value;
  let p = 0;
  const peek = (): Token => t[p] ?? { t: 'end' };
  const fail = (msg: string): Result<LabelSelector, string> => err(`labelSelector "${input}": ${msg}`);
  const reqs: LabelRequirement[] = [];
  if (peek().t === 'end') return ok(reqs);
  for (;;) {
    let tok = peek();
    if (tok.t === 'op' && tok.v === '!') {
      p++;
      tok = peek();
      if (tok.t !== 'id') return fail('expected a label key after "!"');
      const bad = checkKey(tok.v);
      if (bad !== undefined) return fail(bad);
      reqs.push({ op: 'notexists', key: tok.v });
      p++;
    } else if (tok.t === 'id') {
      const key = tok.v;
      const bad = checkKey(key);
      if (bad !== undefined) return fail(bad);
      p++;
      const op = peek();
      if (op.t === ',' || op.t === 'end') {
        reqs.push({ op: 'exists', key });
      } else if (op.t === 'op' && op.v !== '!') {
        p++;
        const val = peek();
        // `key=` selects an empty value, as in the API server
        const v = val.t === 'id' ? val.v : '';
        if (val.t === 'id') p++;
        else if (val.t !== ',' && val.t !== 'end') return fail(`expected a value after "${key}${op.v}"`);
        if (op.v === '>' || op.v === '<') {
          if (!/^-?\d+$/u.test(v)) return fail(`"${key}${op.v}${v}": the value must be an integer`);
          reqs.push({ op: op.v === '>' ? 'gt' : 'lt', key, value: Number(v) });
        } else {
          const badV = checkValue(v);
          if (badV !== undefined) return fail(badV);
          reqs.push({ op: op.v === '!=' ? 'notin' : 'in', key, values: [v] });
        }
      } else if (op.t === 'id' && (op.v === 'in' || op.v === 'notin')) {
        p++;
        if (peek().t !== '(') return fail(`expected "(" after "${key} ${op.v}"`);
        p++;
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v.t === 'id') {
            const badV = checkValue(v.v);
            if (badV !== undefined) return fail(badV);
            values.push(v.v);
            p++;
          } else if (v.t === ',' || v.t === ')') {
            values.push(''); // an empty value in a set, as `a in (,x)` allows
          } else {
            return fail(`expected a value or ")" in the set of "${key} ${op.v}"`);
          }
          const sep = peek();
          if (sep.t === ',') {
            p++;
            continue;
          }
          if (sep.t === ')') {
            p++;
            break;
          }
          return fail(`expected "," or ")" in the set of "${key} ${op.v}"`);
        }
        reqs.push({ op: op.v, key, values });
      } else {
        return fail(`unexpected ${describe(op)} after "${key}"`);
      }
    } else {
      return fail(`expected a label key, found ${describe(tok)}`);
    }
    const sep = peek();
    if (sep.t === 'end') return ok(reqs);
    if (sep.t !== ',') return fail(`expected "," between requirements, found ${describe(sep)}`);
    p++;
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case 'id':
      return `"${t.v}"`;
    case 'op':
      return `"${t.v}"`;
    case 'end':
      return 'the end';
    default:
      return `"${t.t}"`;
  }
}

export function matchLabels(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const r of sel) {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        // as the API server: a missing label satisfies `!=` and `notin`
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'gt':
      case 'lt': {
        if (v === undefined || !/^-?\d+$/u.test(v)) return false;
        const n = Number(v);
        if (r.op === 'gt' ? !(n > r.value) : !(n < r.value)) return false;
        break;
      }
    }
  }
  return true;
}

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}
export type FieldSelector = readonly FieldRequirement[];

/**
 * Parses a field selector (`a=b,c!=d`, `==` as `=`, backslash escapes `\,` `\=` `\\`), checking
 * each field against `supported` (the API server refuses unknown fields with 400 too).
 */
export function parseFieldSelector(
  input: string,
  supported: ReadonlySet<string>,
  kind: string,
): Result<FieldSelector, string> {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i] ?? '';
    if (c === '\\' && i + 1 < input.length) {
      cur += c + (input[i + 1] ?? '');
      i++;
    } else if (c === ',') {
      terms.push(cur);
      cur = '';
    } else cur += c;
  }
  terms.push(cur);
  const out: FieldRequirement[] = [];
  if (input.trim() === '') return ok(out);
  for (const term of terms) {
    const m = /^([^=!\\]+?)\s*(!=|==|=)(.*)$/su.exec(term);
    if (m === null)
      return err(`fieldSelector "${input}": invalid term "${term}": expected field=value or field!=value`);
    const field = (m[1] ?? '').trim();
    const value = unescapeField(m[3] ?? '');
    if (value === undefined) return err(`fieldSelector "${input}": invalid escape in "${term}"`);
    if (!supported.has(field))
      return err(
        `field label not supported: ${field} (fieldSelector for ${kind} supports ${[...supported].join(', ')})`,
      );
    out.push({ field, op: m[2] === '!=' ? '!=' : '=', value });
  }
  return ok(out);
}

function unescapeField(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\\') {
      const n = s[i + 1];
      if (n !== '\\' && n !== ',' && n !== '=') return undefined;
      out += n;
      i++;
    } else if (c === '=' || c === ',') {
      return undefined;
    } else out += c;
  }
  return out;
}

export function matchFields(sel: FieldSelector, value: (field: string) => string): boolean {
  for (const r of sel) {
    const v = value(r.field);
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
