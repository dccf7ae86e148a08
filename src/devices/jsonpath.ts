/**
 * The small JSON path of MQTT visitors: dot-separated keys and array indexes (`a.b.0.c`);
 * an optional leading `$` or `$.`; empty means the whole payload. Deliberately not full
 * JSONPath: a visitor names one value.
 */
export function pathSegments(path: string): string[] {
  const p = path.trim().replace(/^\$\.?/, '');
  return p === '' ? [] : p.split('.');
}

export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const seg of pathSegments(path)) {
    if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, seg))
      cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
  }
  return cur;
}

/** `{a: {b: value}}` for path `a.b` (the body a write publishes). */
export function setPath(path: string, value: unknown): unknown {
  return pathSegments(path).reduceRight<unknown>((acc, seg) => ({ [seg]: acc }), value);
}
