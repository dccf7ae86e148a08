/**
 * Heap snapshots by constructor (issue 12, cloud memory per edge):
 * `npx tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--per 1000] [--top 40]`.
 * Groups every node of a V8 heap snapshot by type and constructor/name, sums self sizes and
 * counts, and prints the difference after − before (divided by --per, e.g. the number of edges
 * connected between the two snapshots): what each connected edge costs, by kind of object.
 * Self sizes, not retained sizes: a Map's entries show under "(object elements)"/"system / …".
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function byConstructor(file: string): Map<string, { size: number; count: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const out = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType] ?? 0] ?? '?';
    const name = s.strings[s.nodes[i + iName] ?? 0] ?? '?';
    const key =
      type === 'object' || type === 'closure' || type === 'native' || type === 'hidden'
        ? `${type}: ${name.slice(0, 60)}`
        : type === 'array'
          ? `array: ${name.slice(0, 40)}`
          : type;
    const e = out.get(key) ?? { size: 0, count: 0 };
    e.size += s.nodes[i + iSize] ?? 0;
    e.count++;
    out.set(key, e);
  }
  return out;
}

const [a, b] = process.argv
  .slice(2)
  .filter((x, i, all) => !x.startsWith('--') && !all[i - 1]?.startsWith('--'));
const arg = (n: string, d: number): number => {
  const i = process.argv.indexOf(`--${n}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
if (a === undefined || b === undefined) {
  console.error('usage: heap-diff <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top 40]');
  process.exit(2);
}
const per = arg('per', 1);
const top = arg('top', 40);
const before = byConstructor(a);
const after = byConstructor(b);
const rows = [...new Set([...before.keys(), ...after.keys()])].map((k) => {
  const x = before.get(k) ?? { size: 0, count: 0 };
  const y = after.get(k) ?? { size: 0, count: 0 };
  return { k, size: y.size - x.size, count: y.count - x.count };
});
rows.sort((p, q) => q.size - p.size);
const total = rows.reduce((s, r) => s + r.size, 0);
console.log(
  `self size after − before: ${(total / 1024).toFixed(0)} KiB; per ${String(per)}: ${(total / per).toFixed(0)} B`,
);
console.log('bytes/per | objects/per | type: constructor');
for (const r of rows.slice(0, top))
  console.log(
    `${(r.size / per).toFixed(0).padStart(9)} | ${(r.count / per).toFixed(2).padStart(11)} | ${r.k}`,
  );
