/**
 * Label and selector strings as k8s.io/apimachinery/pkg/labels renders them
 * (labels.FormatLabels, metav1.FormatLabelSelector, Selector.String()).
 */

type JMap = Record<string, unknown>;
const isMap = (v: unknown): v is JMap => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** labels.Set.String(): sorted "k=v" joined with ",". */
export function labelsString(m: unknown): string {
  if (!isMap(m)) return '';
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${str(m[k])}`)
    .join(',');
}

/** labels.FormatLabels: "<none>" when empty. */
export function formatLabels(m: unknown): string {
  const s = labelsString(m);
  return s === '' ? '<none>' : s;
}

/**
 * metav1.LabelSelectorAsSelector(sel).String(); undefined when the selector is invalid.
 * A nil selector selects nothing and an empty one everything — both print as "".
 */
export function selectorString(sel: unknown): string | undefined {
  if (!isMap(sel)) return '';
  const reqs: { key: string; text: string }[] = [];
  const ml = sel.matchLabels;
  if (isMap(ml)) for (const k of Object.keys(ml)) reqs.push({ key: k, text: `${k}=${str(ml[k])}` });
  const exprs = sel.matchExpressions;
  if (Array.isArray(exprs)) {
    for (const e of exprs as unknown[]) {
      if (!isMap(e)) return undefined;
      const key = str(e.key);
      const values = Array.isArray(e.values) ? (e.values as unknown[]).map(str) : [];
      const set = [...new Set(values)].sort().join(',');
      switch (e.operator) {
        case 'In':
          if (values.length === 0) return undefined;
          reqs.push({ key, text: `${key} in (${set})` });
          break;
        case 'NotIn':
          if (values.length === 0) return undefined;
          reqs.push({ key, text: `${key} notin (${set})` });
          break;
        case 'Exists':
          if (values.length > 0) return undefined;
          reqs.push({ key, text: key });
          break;
        case 'DoesNotExist':
          if (values.length > 0) return undefined;
          reqs.push({ key, text: `!${key}` });
          break;
        default:
          return undefined;
      }
    }
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: "<error>" when invalid, "<none>" when empty. */
export function formatLabelSelector(sel: unknown): string {
  const s = selectorString(sel);
  if (s === undefined) return '<error>';
  return s === '' ? '<none>' : s;
}
