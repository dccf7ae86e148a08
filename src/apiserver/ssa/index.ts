/** Server-side apply and managedFields for the embedded API server (see managed.ts). */
import { hasSubresource, type ResourceInfo } from '../resources.js';
import type { Scope } from './fieldset.js';
import { builtinShape, customShape, type Shape } from './shape.js';

export { apply, trackUpdate, type Writer } from './managed.js';
export type { Scope } from './fieldset.js';
export type { Shape } from './shape.js';

export function shapeFor(r: ResourceInfo): Shape {
  return r.custom === undefined ? builtinShape(r.group, r.kind) : customShape(r.custom.schema);
}

export function scopeFor(r: ResourceInfo, subresource: string | undefined): Scope {
  if (!hasSubresource(r, 'status')) return 'all';
  return subresource === 'status' ? 'status' : 'main';
}

/**
 * The manager of a non-apply write: the fieldManager parameter, else the User-Agent up to its
 * first '/' (fieldmanager's prefixFromUserAgent), at most 128 characters.
 */
export function managerName(fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager !== null && fieldManager !== '') return fieldManager;
  return (userAgent ?? '').split('/')[0]?.slice(0, 128) ?? '';
}
