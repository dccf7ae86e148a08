/** k8s.io/apimachinery/pkg/util/duration.HumanDuration, to the second. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  // Allow deviation no more than 2 seconds (excluded) to tolerate clock skew (upstream).
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Milliseconds of an RFC 3339 timestamp, undefined for zero/absent/unparseable values. */
export function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '' || v === 'null') return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  if (t === Date.parse('0001-01-01T00:00:00Z')) return undefined;
  return t;
}

/** printers.go translateTimestampSince: "<unknown>" for a zero timestamp. */
export function since(v: unknown, now: number): string {
  const t = parseTime(v);
  return t === undefined ? '<unknown>' : humanDuration(now - t);
}
