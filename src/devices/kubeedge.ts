import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';

/**
 * The KubeEdge device topic scheme and payloads (KubeEdge edge/pkg/devicetwin/dttype and
 * eventbus), so KubeEdge device apps and mappers run unchanged (DESIGN §5). Documented in
 * docs/devices.md. Device `{id}` is the Device name; the namespaced form
 * `$hw/events/device/{namespace}/{name}/…` is ours and names a Device without ambiguity.
 */
export const DEVICE_PREFIX = '$hw/events/device/';
export const NODE_PREFIX = '$hw/events/node/';

export const DEVICE_SUFFIXES = [
  'twin/update',
  'twin/update/delta',
  'twin/update/result',
  'twin/get',
  'twin/get/result',
  'state/update',
  'state/update/result',
] as const;
export type DeviceTopicSuffix = (typeof DEVICE_SUFFIXES)[number];
const SUFFIX_SET: ReadonlySet<string> = new Set(DEVICE_SUFFIXES);

export type DeviceRef = { readonly namespace?: string; readonly name: string };

export type ParsedTopic =
  | { readonly kind: 'device'; readonly device: DeviceRef; readonly suffix: DeviceTopicSuffix }
  | { readonly kind: 'membership'; readonly node: string; readonly op: 'get' | 'get/result' | 'updated' };

/** Topic → what it addresses; undefined for topics outside the scheme. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (topic.startsWith(DEVICE_PREFIX)) {
    const segs = topic.slice(DEVICE_PREFIX.length).split('/');
    const [a, b] = segs;
    if (a === undefined || a === '') return undefined;
    // `{id}/{suffix}` first; a name may itself be "twin", so fall back to `{ns}/{name}/{suffix}`.
    const plain = segs.slice(1).join('/');
    if (SUFFIX_SET.has(plain))
      return { kind: 'device', device: { name: a }, suffix: plain as DeviceTopicSuffix };
    const nsd = segs.slice(2).join('/');
    if (b !== undefined && b !== '' && SUFFIX_SET.has(nsd))
      return { kind: 'device', device: { namespace: a, name: b }, suffix: nsd as DeviceTopicSuffix };
    return undefined;
  }
  if (topic.startsWith(NODE_PREFIX)) {
    const segs = topic.slice(NODE_PREFIX.length).split('/');
    const node = segs[0];
    if (node === undefined || node === '' || segs[1] !== 'membership') return undefined;
    const op = segs.slice(2).join('/');
    if (op === 'get' || op === 'get/result' || op === 'updated') return { kind: 'membership', node, op };
  }
  return undefined;
}

export function deviceTopic(device: DeviceRef, suffix: DeviceTopicSuffix): string {
  return device.namespace === undefined
    ? `${DEVICE_PREFIX}${device.name}/${suffix}`
    : `${DEVICE_PREFIX}${device.namespace}/${device.name}/${suffix}`;
}

export function membershipTopic(node: string, op: 'get' | 'get/result' | 'updated'): string {
  return `${NODE_PREFIX}${node}/membership/${op}`;
}

/** Subscriptions the device manager holds on the bus (KubeEdge's eventbus subscribes the same). */
export const MANAGER_SUBSCRIPTIONS = [
  `${DEVICE_PREFIX}+/twin/update`,
  `${DEVICE_PREFIX}+/twin/get`,
  `${DEVICE_PREFIX}+/state/update`,
  `${DEVICE_PREFIX}+/+/twin/update`,
  `${DEVICE_PREFIX}+/+/twin/get`,
  `${DEVICE_PREFIX}+/+/state/update`,
  `${NODE_PREFIX}+/membership/get`,
] as const;

// ── payloads (field names as KubeEdge's dttype: event_id, timestamp in ms, twin, delta) ──

const baseMessage = () => ({
  event_id: z.string().max(256).optional(),
  timestamp: z.number().optional(),
});

const twinValue = () =>
  z.looseObject({
    value: z.string().max(4096).nullish(),
    metadata: z.looseObject({ timestamp: z.number().optional() }).nullish(),
  });
const buildMsgTwinSchema = () =>
  z.looseObject({
    expected: twinValue().nullish(),
    actual: twinValue().nullish(),
    optional: z.boolean().nullish(),
    metadata: z.looseObject({ type: z.string().optional() }).nullish(),
    expected_version: z.unknown().optional(),
    actual_version: z.unknown().optional(),
  });
export const msgTwinSchema = lazySchema(buildMsgTwinSchema);
export type MsgTwin = z.infer<typeof msgTwinSchema>;

/** `…/twin/update` from a device app: twin values; `actual` is what the device reports. */
const buildTwinUpdateSchema = () =>
  z.looseObject({
    ...baseMessage(),
    // a nil twin entry means "delete" in KubeEdge; we accept and ignore it (properties come from the spec)
    twin: z.record(z.string().max(63), buildMsgTwinSchema().nullable()),
  });
export const twinUpdateSchema = lazySchema(buildTwinUpdateSchema);
export type TwinUpdate = z.infer<typeof twinUpdateSchema>;

const buildTwinGetSchema = () => z.looseObject({ ...baseMessage() });
export const twinGetSchema = lazySchema(buildTwinGetSchema);
const buildStateUpdateSchema = () =>
  z.looseObject({
    ...baseMessage(),
    state: z.enum(['online', 'offline', 'unknown']),
  });
export const stateUpdateSchema = lazySchema(buildStateUpdateSchema);
const buildMembershipGetSchema = () => z.looseObject({ ...baseMessage() });
export const membershipGetSchema = lazySchema(buildMembershipGetSchema);

export interface WireTwinValue {
  value: string;
  metadata: { timestamp: number };
}
export interface WireTwin {
  expected?: WireTwinValue;
  actual?: WireTwinValue;
  optional: boolean;
  metadata: { type: string };
}
export interface WireDevice {
  id: string;
  name: string;
  description?: string;
  state: 'online' | 'offline' | 'unknown';
  last_online: string;
  twin: Record<string, WireTwin>;
  /** Tether's extension for mappers running as their own process: the Device's namespace, spec and model. */
  tether?: { namespace: string; spec: unknown; model: unknown };
}

export function base(eventId?: string): { event_id: string; timestamp: number } {
  return { event_id: eventId ?? '', timestamp: Date.now() };
}

/** `…/twin/update/delta`: KubeEdge's DeviceTwinDelta — the twins plus `delta: {prop: expected}`. */
export function deltaMessage(twin: Record<string, WireTwin>, delta: Record<string, string>): object {
  return { ...base(), twin, delta };
}

/** `…/twin/update/result`, `…/twin/get/result`: DeviceTwinResult, or a Result with code/reason on failure. */
export function twinResult(eventId: string | undefined, twin: Record<string, WireTwin>): object {
  return { ...base(eventId), twin };
}
export function failureResult(eventId: string | undefined, code: number, reason: string): object {
  return { ...base(eventId), code, reason };
}
