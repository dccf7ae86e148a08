import type { Grade, UnitOutput, UnitSnapshot, YesNo } from './types.js';

/**
 * The compact status string (the seed's "生成字符" handed to the kubelet), one entry per unit
 * in registration order:
 *
 *   status = [ entry *( ";" entry ) ]
 *   entry  = name "=" output [ "@" time ]
 *   name   = %x61-7A *( %x61-7A / DIGIT / "." / "_" / "-" )     ; lower-case unit name
 *   output = score / yesno / unknown
 *   score  = number "/" grade                                    ; mean of the window, e.g. 0.42/ok
 *   grade  = "ok" / "warn" / "critical"
 *   yesno  = "01" / "02"                                         ; 01 pass, 02 fail
 *   unknown= "?"                                                 ; no fresh output; time = last output, if any
 *   time   = hh ":" mm ":" ss "Z"                                ; UTC, same day as the string
 *          / date "T" hh ":" mm ":" ss "Z"                       ; UTC, another day
 *   number = [ "-" ] 1*DIGIT [ "." 1*3DIGIT ]                    ; rounded to 3 decimals
 *
 * e.g. `cpu=0.42/ok@17:03:05Z;runtime=01@17:03:04Z;disk=0.93/warn@17:02:55Z;mqtt=?`
 */

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '0';
  const r = Math.round(v * 1000) / 1000;
  return String(Object.is(r, -0) ? 0 : r);
}

export function formatTime(at: Date, now: Date): string {
  const iso = at.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const sameDay = iso.slice(0, 10) === now.toISOString().slice(0, 10);
  return sameDay ? `${iso.slice(11, 19)}Z` : `${iso.slice(0, 19)}Z`;
}

export function formatOutput(o: UnitOutput): string {
  return o.mode === 'score' ? `${formatNumber(o.value)}/${o.grade}` : o.result;
}

export function formatEntry(u: UnitSnapshot, now: Date): string {
  if (u.output === undefined) return `${u.unit}=?`;
  const time = formatTime(u.output.at, now);
  return u.stale ? `${u.unit}=?@${time}` : `${u.unit}=${formatOutput(u.output)}@${time}`;
}

export function formatStatusString(units: readonly UnitSnapshot[], now: Date): string {
  return units.map((u) => formatEntry(u, now)).join(';');
}

export type ParsedEntry =
  | { unit: string; kind: 'score'; value: number; grade: Grade; at?: Date }
  | { unit: string; kind: 'yesno'; result: YesNo; at?: Date }
  | { unit: string; kind: 'unknown'; at?: Date };

const ENTRY_RE =
  /^([a-z][a-z0-9._-]*)=(?:(-?\d+(?:\.\d{1,3})?)\/(ok|warn|critical)|(01|02)|(\?))(?:@(?:(\d{4}-\d{2}-\d{2})T)?(\d{2}:\d{2}:\d{2})Z)?$/u;

/**
 * Parses a status string (for the CLI and for tests). `day` gives the date of time-only
 * entries — the date the string was produced. Returns undefined for a malformed string.
 */
export function parseStatusString(s: string, day: Date): ParsedEntry[] | undefined {
  if (s === '') return [];
  const out: ParsedEntry[] = [];
  for (const part of s.split(';')) {
    const m = ENTRY_RE.exec(part);
    if (m === null) return undefined;
    const [, unit = '', num, grade, yn, , date, time] = m;
    let at: Date | undefined;
    if (time !== undefined) {
      at = new Date(`${date ?? day.toISOString().slice(0, 10)}T${time}Z`);
      if (Number.isNaN(at.getTime())) return undefined;
    }
    const base = at === undefined ? { unit } : { unit, at };
    if (num !== undefined && grade !== undefined) {
      out.push({ ...base, kind: 'score', value: Number(num), grade: grade as Grade });
    } else if (yn !== undefined) {
      out.push({ ...base, kind: 'yesno', result: yn as YesNo });
    } else {
      out.push({ ...base, kind: 'unknown' });
    }
  }
  return out;
}
