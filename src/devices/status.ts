import { err, ok, type Result } from '../common/index.js';
import { DeviceError } from './errors.js';
import {
  deviceStatusSchema,
  describeIssues,
  type DeviceCondition,
  type DeviceConditionType,
  type DeviceStatus,
} from './types.js';

/**
 * Pure status logic shared by the edge (building the deviceStatus it queues) and the cloud
 * (checking what it writes to the Device status subresource, and rate-limiting it).
 */

/**
 * Sets one condition; lastTransitionTime moves only when `status` changes (Kubernetes API
 * conventions for conditions), so a device reporting every second does not churn the object.
 */
export function setCondition(
  conditions: readonly DeviceCondition[],
  next: { type: DeviceConditionType; status: DeviceCondition['status']; reason: string; message?: string },
  now: Date,
): DeviceCondition[] {
  const prev = conditions.find((c) => c.type === next.type);
  const cond: DeviceCondition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    ...(next.message === undefined ? {} : { message: next.message }),
    lastTransitionTime:
      prev !== undefined && prev.status === next.status && prev.lastTransitionTime !== undefined
        ? prev.lastTransitionTime
        : now.toISOString(),
  };
  // by code point, not localeCompare: the types are ASCII names (CONDITION_TYPES), so the order is
  // the same, and localeCompare loads ICU's collator — ~3 MiB of the node binary's collation data
  // and code made resident in every edge agent with a device (issue 12, edge footprint)
  return [...conditions.filter((c) => c.type !== next.type), cond].sort((a, b) =>
    a.type < b.type ? -1 : a.type > b.type ? 1 : 0,
  );
}

/**
 * Cloud side: validates a `deviceStatus` payload from the edge before it is written as the
 * Device's `.status` (DESIGN §2: bad input at a boundary is refused with a reason).
 */
export function parseDeviceStatusPayload(payload: unknown): Result<DeviceStatus, DeviceError> {
  const r = deviceStatusSchema.safeParse(payload);
  if (!r.success)
    return err(
      new DeviceError('DEVICE_VALUE', `invalid deviceStatus: ${describeIssues(r.error).join('; ')}`),
    );
  return ok(r.data);
}

/** Whether two statuses differ in anything but timestamps of unchanged values (a write would be a no-op). */
export function statusChanged(a: DeviceStatus | undefined, b: DeviceStatus): boolean {
  if (a === undefined) return true;
  const strip = (s: DeviceStatus): unknown => ({
    p: (s.properties ?? []).map((p) => [p.name, p.reported?.value, p.desired?.value]),
    c: (s.conditions ?? []).map((c) => [c.type, c.status, c.reason]),
    g: s.observedGeneration,
  });
  return JSON.stringify(strip(a)) !== JSON.stringify(strip(b));
}

/**
 * Coalescing rate limiter, per key (a Device): at most one emission every `minIntervalMs`,
 * and the one emitted is always the latest value offered (issue 9: a 1 Hz property must not make
 * one API write per second). `urgent` offers (Online flips) go out at once. Used by the edge
 * before its outbox and usable by the cloud before the API server. Pure: time is passed in.
 */
export class CoalescingLimiter<T> {
  private readonly last = new Map<string, number>();
  private readonly pending = new Map<string, T>();

  constructor(private readonly minIntervalMs: number) {}

  /** Returns the value to emit now, or undefined when it was parked until `due`. */
  offer(key: string, value: T, now: number, urgent = false): T | undefined {
    const last = this.last.get(key);
    if (urgent || last === undefined || now - last >= this.minIntervalMs) {
      this.pending.delete(key);
      this.last.set(key, now);
      return value;
    }
    this.pending.set(key, value);
    return undefined;
  }

  /** Parked values whose interval has passed; they count as emitted now. */
  due(now: number): [string, T][] {
    const out: [string, T][] = [];
    for (const [key, value] of this.pending) {
      const last = this.last.get(key) ?? 0;
      if (now - last >= this.minIntervalMs) {
        out.push([key, value]);
        this.last.set(key, now);
      }
    }
    for (const [key] of out) this.pending.delete(key);
    return out;
  }

  /** Everything parked, regardless of time (on stop). */
  drain(): [string, T][] {
    const out = [...this.pending];
    this.pending.clear();
    return out;
  }

  forget(key: string): void {
    this.last.delete(key);
    this.pending.delete(key);
  }

  get parked(): number {
    return this.pending.size;
  }
}
