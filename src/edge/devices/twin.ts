import {
  sameValue,
  type DeviceCondition,
  type DeviceModelSpec,
  type DeviceStatus,
  type ModelProperty,
  type PropertyStatus,
  type WireTwin,
} from '../../devices/index.js';
import type { TwinRow } from '../store/twins.js';

/**
 * Pure twin logic (issue 9): what differs between desired and reported, the KubeEdge wire form
 * of a twin, and the Device `.status` the edge sends upstream as `deviceStatus`.
 */

const iso = (ms: number): string => new Date(ms).toISOString();

/** ReadWrite properties whose desired value the device does not hold yet: `{property: desired}`. */
export function pendingDesired(model: DeviceModelSpec, rows: readonly TwinRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    if (r.desired === undefined) continue;
    const p = model.properties.find((x) => x.name === r.property);
    if (p?.accessMode !== 'ReadWrite') continue;
    if (r.reported === undefined || !sameValue(p.type, r.reported, r.desired)) out[r.property] = r.desired;
  }
  return out;
}

/** KubeEdge's MsgTwin map (expected = desired, actual = reported; metadata.type = the value type). */
export function wireTwins(
  model: DeviceModelSpec,
  rows: readonly TwinRow[],
  only?: ReadonlySet<string>,
): Record<string, WireTwin> {
  const out: Record<string, WireTwin> = {};
  const byName = new Map(rows.map((r) => [r.property, r]));
  for (const p of model.properties) {
    if (only !== undefined && !only.has(p.name)) continue;
    const r = byName.get(p.name);
    out[p.name] = {
      ...(r?.desired === undefined
        ? {}
        : { expected: { value: r.desired, metadata: { timestamp: r.desiredAt ?? 0 } } }),
      ...(r?.reported === undefined
        ? {}
        : { actual: { value: r.reported, metadata: { timestamp: r.reportedAt ?? 0 } } }),
      optional: false,
      metadata: { type: p.type },
    };
  }
  return out;
}

/** The Device `.status` (payload of the `deviceStatus` upstream write). */
export function buildStatus(input: {
  readonly model: DeviceModelSpec | undefined;
  readonly rows: readonly TwinRow[];
  readonly conditions: readonly DeviceCondition[];
  readonly lastOnline?: number;
  readonly generation?: number;
}): DeviceStatus {
  const known =
    input.model === undefined ? undefined : new Set(input.model.properties.map((p: ModelProperty) => p.name));
  const properties: PropertyStatus[] = input.rows
    .filter((r) => known === undefined || known.has(r.property))
    .map((r) => ({
      name: r.property,
      ...(r.reported === undefined
        ? {}
        : { reported: { value: r.reported, timestamp: iso(r.reportedAt ?? 0) } }),
      ...(r.desired === undefined ? {} : { desired: { value: r.desired, timestamp: iso(r.desiredAt ?? 0) } }),
    }));
  return {
    properties,
    conditions: [...input.conditions],
    ...(input.lastOnline === undefined ? {} : { lastOnlineTime: iso(input.lastOnline) }),
    ...(input.generation === undefined ? {} : { observedGeneration: input.generation }),
  };
}
