/**
 * A tiny checker of the Prometheus text exposition format (0.0.4), for tests: prom-client has
 * no parser and promtool is not installed everywhere. It parses every line and throws on what
 * Prometheus' own parser (textparse.PromParser) rejects: bad names, bad label syntax, a value
 * that is no float, a timestamp that is no integer, a family split or typed twice.
 */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

export interface PromFamily {
  readonly name: string;
  type?: string;
  help?: string;
  readonly samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES = ['_total', '_bucket', '_count', '_sum', '_created', '_info'];

function parseValue(v: string, line: string): number {
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`bad value "${v}" in: ${line}`);
  return Number(v);
}

function parseLabels(s: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const k = s.slice(i, eq).trim();
    if (!LABEL.test(k)) throw new Error(`bad label name "${k}" in: ${line}`);
    if (k in out) throw new Error(`duplicate label "${k}" in: ${line}`);
    if (s[eq + 1] !== '"') throw new Error(`label value not quoted in: ${line}`);
    let j = eq + 2;
    let v = '';
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === '\\') {
        const n = s[++j];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else throw new Error(`bad escape in: ${line}`);
      } else v += s[j] ?? '';
    }
    if (s[j] !== '"') throw new Error(`unterminated label value in: ${line}`);
    out[k] = v;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`expected , between labels in: ${line}`);
  }
  return out;
}

function familyOf(name: string, families: Map<string, PromFamily>): string {
  if (families.has(name)) return name;
  for (const suf of SUFFIXES)
    if (name.endsWith(suf) && families.get(name.slice(0, -suf.length))?.type !== undefined)
      return name.slice(0, -suf.length);
  return name;
}

/** Parses and checks the text; returns the families in order of appearance. */
export function parsePromText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  let current: string | undefined;
  const closed = new Set<string>();
  const enter = (name: string): PromFamily => {
    if (current !== name) {
      if (closed.has(name)) throw new Error(`family ${name} is split across the text`);
      if (current !== undefined) closed.add(current);
      current = name;
    }
    let f = families.get(name);
    if (f === undefined) {
      f = { name, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  if (text !== '' && !text.endsWith('\n')) throw new Error('the text must end with a newline');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (m === null) continue; // a comment
      const [, kw, name = '', rest = ''] = m;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const f = enter(name);
      if (kw === 'TYPE') {
        if (f.type !== undefined) throw new Error(`second TYPE for ${name}`);
        if (f.samples.length > 0) throw new Error(`TYPE after samples for ${name}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          throw new Error(`bad type in: ${line}`);
        f.type = rest;
      } else {
        if (f.help !== undefined) throw new Error(`second HELP for ${name}`);
        f.help = rest;
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(\S+))?\s*$/.exec(line);
    if (m === null) throw new Error(`bad sample line: ${line}`);
    const [, name = '', labels, value = '', ts] = m;
    if (ts !== undefined && !/^-?\d+$/.test(ts)) throw new Error(`bad timestamp in: ${line}`);
    const f = enter(familyOf(name, families));
    f.samples.push({
      name,
      labels: labels === undefined ? {} : parseLabels(labels, line),
      value: parseValue(value, line),
      ...(ts === undefined ? {} : { timestampMs: Number(ts) }),
    });
  }
  return families;
}

/** The samples of one metric name. */
export function samplesOf(families: Map<string, PromFamily>, name: string): PromSample[] {
  return [...families.values()].flatMap((f) => f.samples.filter((s) => s.name === name));
}
