/** Small readers of /proc and percentile helpers for the benchmarks (Linux only). */
import { readFileSync } from 'node:fs';

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`no VmRSS for pid ${String(pid)}`);
  return Number(m[1]) * 1024;
}

/** utime+stime of a process in clock ticks (USER_HZ = 100 on Linux/x86-64). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  // fields after the command name, which is in parentheses and may contain spaces
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export function summary(values: readonly number[]): {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
} {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 10) / 10;
  return {
    n: s.length,
    p50: r(percentile(s, 50)),
    p90: r(percentile(s, 90)),
    p99: r(percentile(s, 99)),
    max: r(s.at(-1) ?? NaN),
  };
}
