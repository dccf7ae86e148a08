/**
 * meta.k8s.io/v1 Table output (what `kubectl get` asks for with
 * `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), with the columns and cell
 * formatting of upstream's printers, the CRD additionalPrinterColumns convertor
 * (apiextensions-apiserver/pkg/registry/customresource/tableconvertor) and the default
 * NAME/CREATED AT convertor for everything else.
 */
import type { JsonObject } from '../storage/types.js';
import { humanDuration, parseTime } from './duration.js';
import { findResults, parseJsonPath, type JsonPath } from './jsonpath.js';
import {
  CREATION_DESCRIPTION,
  NAME_DESCRIPTION,
  printerFor,
  type ColumnDefinition,
  type Printer,
} from './printers.js';

export { humanDuration } from './duration.js';
export { parseJsonPath, findResults } from './jsonpath.js';
export { formatLabelSelector, selectorString, formatLabels } from './labels.js';

/** A CRD's additionalPrinterColumns entry (apiextensions.k8s.io/v1). */
export interface CrdPrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly format?: string;
  readonly description?: string;
  readonly priority?: number;
  readonly jsonPath: string;
}

export interface TableTarget {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly resource: string;
}

export interface TableOptions {
  readonly includeObject: 'None' | 'Metadata' | 'Object';
  /**
   * Set (even to []) for custom resources: the CRD version's additionalPrinterColumns.
   * An empty list means upstream's served default, a single AGE column.
   */
  readonly printerColumns?: readonly CrdPrinterColumn[];
  /** TableOptions.noHeaders: omit columnDefinitions. */
  readonly noHeaders?: boolean;
  /** Reference time for ages (defaults to now); tests pin it. */
  readonly now?: Date;
}

export interface TableListMeta {
  readonly resourceVersion?: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

type JMap = Record<string, unknown>;
const isMap = (v: unknown): v is JMap => typeof v === 'object' && v !== null && !Array.isArray(v);

/** encoding/json.Marshal of a decoded value: sorted keys, HTML-safe escapes. */
function goMarshal(v: unknown): string {
  if (Array.isArray(v)) return `[${(v as unknown[]).map(goMarshal).join(',')}]`;
  if (isMap(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${goMarshal(k)}:${goMarshal(v[k])}`)
      .join(',')}}`;
  }
  if (typeof v === 'string') {
    return JSON.stringify(v)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029');
  }
  return JSON.stringify(v ?? null);
}

/** jsonpath PrintResults of one value: text for scalars, JSON for maps and lists. */
function printText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'object') return goMarshal(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'string' ? v : undefined;
}

/** tableconvertor.cellForJSONValue */
function cellFor(type: string, v: unknown, now: number): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'string':
      return typeof v === 'string' ? v : null;
    case 'date': {
      if (typeof v !== 'string') return null;
      if (v === '' || v === 'null') return '<unknown>';
      const t = Date.parse(v);
      if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(v)) return '<invalid>';
      return parseTime(v) === undefined ? '<unknown>' : humanDuration(now - t);
    }
    default:
      return null;
  }
}

function customResourcePrinter(columns: readonly CrdPrinterColumn[]): Printer {
  const effective: readonly CrdPrinterColumn[] =
    columns.length > 0
      ? columns
      : [
          {
            name: 'Age',
            type: 'date',
            description: CREATION_DESCRIPTION,
            jsonPath: '.metadata.creationTimestamp',
          },
        ];
  const defs: ColumnDefinition[] = [
    { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 },
  ];
  const paths: { path: JsonPath; type: string }[] = [];
  for (const c of effective) {
    const path = parseJsonPath(c.jsonPath);
    // upstream stops at the first unparseable column and serves what it built so far
    if (path === undefined) break;
    paths.push({ path, type: c.type });
    defs.push({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description:
        c.description !== undefined && c.description !== ''
          ? c.description
          : `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      priority: c.priority ?? 0,
    });
  }
  return {
    columns: defs,
    print: (o, now) => {
      const cells: unknown[] = [
        isMap(o.metadata) && typeof o.metadata.name === 'string' ? o.metadata.name : '',
      ];
      for (const { path, type } of paths) {
        const results = findResults(o, path);
        if (results.length === 0) {
          cells.push(null);
          continue;
        }
        const v = results[0];
        cells.push(type === 'string' ? (printText(v) ?? null) : cellFor(type, v, now));
      }
      return { cells };
    },
  };
}

function rowObject(o: JsonObject, include: TableOptions['includeObject']): unknown {
  switch (include) {
    case 'None':
      return null;
    case 'Object':
      return o;
    case 'Metadata':
      return {
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: isMap(o.metadata) ? o.metadata : {},
      };
  }
}

/**
 * Render `objects` (one for a GET, the items for a LIST) of `target` as a Table. All columns
 * are always present (the server prints wide); kubectl hides priority > 0 unless `-o wide`.
 */
export function toTable(
  target: TableTarget,
  objects: JsonObject[],
  opts: TableOptions,
  listMeta: TableListMeta,
): JsonObject {
  const now = (opts.now ?? new Date()).getTime();
  const printer =
    opts.printerColumns !== undefined
      ? customResourcePrinter(opts.printerColumns)
      : printerFor(target.group, target.kind);
  const metadata: JMap = {};
  if (listMeta.resourceVersion !== undefined) metadata.resourceVersion = listMeta.resourceVersion;
  if (listMeta.continue !== undefined && listMeta.continue !== '') metadata.continue = listMeta.continue;
  if (listMeta.remainingItemCount !== undefined) metadata.remainingItemCount = listMeta.remainingItemCount;
  const rows = objects.map((o) => {
    const printed = printer.print(o, now);
    return {
      cells: printed.cells,
      ...(printed.conditions === undefined ? {} : { conditions: printed.conditions }),
      object: rowObject(o, opts.includeObject),
    };
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: opts.noHeaders === true ? null : printer.columns.map((c) => ({ ...c })),
    rows,
  };
}
