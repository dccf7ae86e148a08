/**
 * Go-compatible renderings used in upstream's error messages: encoding/json syntax errors,
 * unmarshal type errors and fmt's %v of decoded JSON values. Clients and tests compare these
 * strings with what kube-apiserver returns.
 */

export type GoKind = 'map' | 'slice' | 'string' | 'number' | 'bool' | 'nil';

export function goKind(v: unknown): GoKind {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'map';
  }
}

export function isMap(v: unknown): v is { [k: string]: unknown } {
  return goKind(v) === 'map';
}

/** reflect.TypeOf(v).String() for a value produced by encoding/json into interface{}. */
export function goTypeName(v: unknown): string {
  switch (goKind(v)) {
    case 'map':
      return 'map[string]interface {}';
    case 'slice':
      return '[]interface {}';
    case 'string':
      return 'string';
    case 'number':
      return Number.isInteger(v) ? 'int64' : 'float64';
    case 'bool':
      return 'bool';
    case 'nil':
      return '%!s(<nil>)';
  }
}

function goFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  // Go's %v for float64 is %g: exponent form for large/small magnitudes.
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    const [m, e] = n.toExponential().split('e') as [string, string];
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}

/** fmt.Sprintf("%v", v) for decoded JSON (maps print with sorted keys, like Go). */
export function goV(v: unknown): string {
  switch (goKind(v)) {
    case 'nil':
      return '<nil>';
    case 'string':
      return v as string;
    case 'number':
      return goFloat(v as number);
    case 'bool':
      return String(v);
    case 'slice':
      return `[${(v as unknown[]).map(goV).join(' ')}]`;
    case 'map': {
      const m = v as Record<string, unknown>;
      return `map[${Object.keys(m)
        .sort()
        .map((k) => `${k}:${goV(m[k])}`)
        .join(' ')}]`;
    }
  }
}

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  const code = c.charCodeAt(0);
  if (code > 0x7f) {
    // encoding/json reports the first byte of the UTF-8 sequence.
    const byte = Buffer.from(c, 'utf8')[0] ?? 0;
    return `'\\x${byte.toString(16).padStart(2, '0')}'`;
  }
  const q = JSON.stringify(c).slice(1, -1);
  if (code < 0x20 && q.startsWith('\\u')) return `'\\x${code.toString(16).padStart(2, '0')}'`;
  return `'${q}'`;
}

class SyntaxFailure extends Error {}

/**
 * The message encoding/json's scanner gives for malformed input, or undefined when `src`
 * is well-formed JSON (encoding/json/scanner.go contexts).
 */
export function goSyntaxError(src: string): string | undefined {
  let i = 0;
  const n = src.length;
  const fail = (ctx: string): never => {
    if (i >= n) throw new SyntaxFailure('unexpected end of JSON input');
    throw new SyntaxFailure(`invalid character ${quoteChar(src.charAt(i))} ${ctx}`);
  };
  const ws = (): void => {
    while (i < n && ' \t\r\n'.includes(src.charAt(i))) i++;
  };
  const isDigit = (c: string): boolean => c >= '0' && c <= '9';
  const literal = (word: string): void => {
    i++;
    for (const ch of word.slice(1)) {
      if (src.charAt(i) !== ch) fail(`in literal ${word} (expecting '${ch}')`);
      i++;
    }
  };
  const str = (): void => {
    i++;
    for (;;) {
      if (i >= n) fail('in string literal');
      const c = src.charAt(i);
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        i++;
        if (i >= n) fail('in string escape code');
        const e = src.charAt(i);
        if ('bfnrt"\\/'.includes(e)) i++;
        else if (e === 'u') {
          i++;
          for (let k = 0; k < 4; k++) {
            if (!/[0-9a-fA-F]/.test(src.charAt(i))) fail('in \\u hexadecimal character escape');
            i++;
          }
        } else fail('in string escape code');
      } else if (c.charCodeAt(0) < 0x20) fail('in string literal');
      else i++;
    }
  };
  const num = (): void => {
    if (src.charAt(i) === '-') {
      i++;
      if (!isDigit(src.charAt(i))) fail('in numeric literal');
    }
    if (src.charAt(i) === '0') i++;
    else while (isDigit(src.charAt(i))) i++;
    if (src.charAt(i) === '.') {
      i++;
      if (!isDigit(src.charAt(i))) fail('after decimal point in numeric literal');
      while (isDigit(src.charAt(i))) i++;
    }
    if (src.charAt(i) === 'e' || src.charAt(i) === 'E') {
      i++;
      if (src.charAt(i) === '+' || src.charAt(i) === '-') i++;
      if (!isDigit(src.charAt(i))) fail('in exponent of numeric literal');
      while (isDigit(src.charAt(i))) i++;
    }
  };
  const value = (): void => {
    ws();
    const c = src.charAt(i);
    if (c === '{') {
      i++;
      ws();
      if (src.charAt(i) === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (src.charAt(i) !== '"') fail('looking for beginning of object key string');
        str();
        ws();
        if (src.charAt(i) !== ':') fail('after object key');
        i++;
        value();
        ws();
        if (src.charAt(i) === ',') {
          i++;
          continue;
        }
        if (src.charAt(i) === '}') {
          i++;
          return;
        }
        fail('after object key:value pair');
      }
    } else if (c === '[') {
      i++;
      ws();
      if (src.charAt(i) === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (src.charAt(i) === ',') {
          i++;
          continue;
        }
        if (src.charAt(i) === ']') {
          i++;
          return;
        }
        fail('after array element');
      }
    } else if (c === '"') str();
    else if (c === '-' || isDigit(c)) num();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else fail('looking for beginning of value');
  };
  try {
    value();
    ws();
    if (i < n) fail('after top-level value');
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxFailure) return e.message;
    throw e;
  }
}

/** The JSON type name encoding/json uses in UnmarshalTypeError ("object", "array", ...). */
export function jsonTypeName(v: unknown): string {
  switch (goKind(v)) {
    case 'map':
      return 'object';
    case 'slice':
      return 'array';
    case 'bool':
      return 'bool';
    case 'nil':
      return 'null';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
  }
}

/** Structural equality of decoded JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const ka = goKind(a);
  if (ka !== goKind(b)) return false;
  if (ka === 'slice') {
    const x = a as unknown[];
    const y = b as unknown[];
    return x.length === y.length && x.every((v, i) => jsonEqual(v, y[i]));
  }
  if (ka === 'map') {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const keys = Object.keys(x);
    return (
      keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && jsonEqual(x[k], y[k]))
    );
  }
  return a === b || (ka === 'nil' && goKind(b) === 'nil');
}

export function deepCopy<T>(v: T): T {
  return structuredClone(v);
}

/** obj[k] = v without the `__proto__` setter (keys come from request bodies). */
export function setOwn(obj: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(obj, k, { value: v, writable: true, enumerable: true, configurable: true });
}
