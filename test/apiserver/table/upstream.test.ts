/**
 * Table output compared with kube-apiserver v1.34.4's, recorded in upstream-v1.34.json
 * (objects created on a real upstream server, listed as Table with includeObject=Object).
 * Column definitions must match exactly, cells exactly except the ages, which depend on the
 * moment of capture (HumanDuration itself is covered in table.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toTable, type CrdPrinterColumn, type TableTarget } from '../../../src/apiserver/table/index.js';

interface Recorded {
  target: TableTarget;
  printerColumns?: CrdPrinterColumn[];
  at: string;
  columnDefinitions: unknown[];
  rows: { cells: unknown[]; conditions?: unknown[]; object: Record<string, unknown> }[];
}
const { tables } = JSON.parse(readFileSync(new URL('./upstream-v1.34.json', import.meta.url), 'utf8')) as {
  tables: Recorded[];
};

const AGE = /^\d+(?:y\d+d|d\d+h|h\d+m|m\d+s|[smhdy])$/;
const mask = (cells: unknown[]): unknown[] =>
  cells
    .map((c) => (typeof c === 'string' ? c.replace(/^(\d+) \((.+) ago\)$/, '$1 (<age> ago)') : c))
    .map((c) => (typeof c === 'string' && AGE.test(c) ? '<age>' : c));

describe('table — agrees with kube-apiserver v1.34', () => {
  it('upstream — the recording covers every printed kind', () => {
    expect(new Set(tables.map((t) => `${t.target.group}/${t.target.kind}`)).size).toBeGreaterThanOrEqual(16);
    expect(tables.reduce((n, t) => n + t.rows.length, 0)).toBeGreaterThan(30);
  });

  for (const t of tables) {
    it(`upstream — ${t.target.group || 'core'}/${t.target.version} ${t.target.kind} (${t.rows.length} rows)`, () => {
      const mine = toTable(
        t.target,
        t.rows.map((r) => r.object),
        {
          includeObject: 'Object',
          now: new Date(t.at),
          ...(t.printerColumns === undefined ? {} : { printerColumns: t.printerColumns }),
        },
        {},
      ) as {
        columnDefinitions: unknown[];
        rows: { cells: unknown[]; conditions?: unknown[]; object: unknown }[];
      };
      expect(mine.columnDefinitions).toEqual(t.columnDefinitions);
      t.rows.forEach((row, i) => {
        const got = mine.rows[i]!;
        expect(mask(got.cells)).toEqual(mask(row.cells));
        expect(got.conditions).toEqual(row.conditions);
        expect(got.object).toEqual(row.object);
      });
    });
  }
});
