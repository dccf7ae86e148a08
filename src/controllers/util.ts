/** Small pieces several controllers share: label selectors, template hashing, events, int-or-percent. */
import { randomBytes } from 'node:crypto';
import type {
  CoreV1Event,
  KubernetesObject,
  V1LabelSelector,
  V1Pod,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { errorMessage, type Logger } from '../common/index.js';
import { metaOf, nowRfc3339, timeMs, type Kube } from './kube.js';

/** metav1.LabelSelectorAsSelector(...).Matches: matchLabels AND every matchExpression. An empty selector matches all. */
export function selectorMatches(
  sel: V1LabelSelector | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (sel === undefined) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const val = l[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(val as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(val as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A stable JSON text: keys sorted, null/undefined and empty objects/arrays dropped. */
export function canonical(v: unknown): string {
  const n = normalise(v);
  return n === undefined ? 'null' : JSON.stringify(n);
}
function normalise(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return nowRfc3339(v.getTime());
  if (Array.isArray(v)) {
    const a = v.map(normalise).filter((x) => x !== undefined);
    return a.length === 0 ? undefined : a;
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalise((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v;
}

/** FNV-1a 32-bit (what upstream's controller.ComputeHash feeds its hasher with). */
function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString alphabet: no vowels, no look-alikes, so hashes never spell words. */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** The pod-template-hash of a template (controller.ComputeHash: fnv32a, then SafeEncodeString of its decimal). */
export function templateHash(template: V1PodTemplateSpec | undefined, collisionCount?: number): string {
  const t = structuredClone(template ?? {});
  const labels = t.metadata?.labels;
  if (labels !== undefined) delete labels['pod-template-hash'];
  let text = canonical(t);
  if (collisionCount !== undefined && collisionCount > 0) text += `#${collisionCount}`;
  const dec = String(fnv32a(text));
  let out = '';
  for (let i = 0; i < dec.length; i++) out += ALPHANUMS[dec.charCodeAt(i) % ALPHANUMS.length] ?? 'b';
  return out;
}

/** EqualIgnoreHash: two pod templates equal once pod-template-hash labels are removed. */
export function equalIgnoreHash(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  const strip = (t: V1PodTemplateSpec | undefined): unknown => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels !== undefined) delete c.metadata.labels['pod-template-hash'];
    if (c.metadata !== undefined) delete c.metadata.creationTimestamp;
    return c;
  };
  return canonical(strip(a)) === canonical(strip(b));
}

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(
  v: number | string | undefined,
  total: number,
  roundUp: boolean,
  dflt: number | string,
): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (m === null) {
    const n = Number(x);
    return Number.isInteger(n) ? n : 0;
  }
  const p = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(p) : Math.floor(p);
}

/** podutil.IsPodReady. */
export function isPodReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds. */
export function isPodAvailable(p: V1Pod, minReadySeconds: number, now: number): boolean {
  const c = p.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
  if (c === undefined) return false;
  if (minReadySeconds <= 0) return true;
  const since = timeMs(c.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/** An active pod: not terminal and not being deleted (controller.IsPodActive). */
export function isPodActive(p: V1Pod): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && metaOf(p).deletionTimestamp == null;
}

/** Records a core/v1 Event about `obj`, as upstream's event recorder; failures are only logged. */
export async function recordEvent(
  kube: Kube,
  log: Logger,
  obj: KubernetesObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  component: string,
): Promise<void> {
  const m = metaOf(obj);
  const namespace = m.namespace !== undefined && m.namespace !== '' ? m.namespace : 'default';
  const now = nowRfc3339();
  const body: CoreV1Event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${m.name ?? 'unknown'}.${randomBytes(8).toString('hex')}`, namespace },
    involvedObject: {
      ...(obj.apiVersion !== undefined ? { apiVersion: obj.apiVersion } : {}),
      ...(obj.kind !== undefined ? { kind: obj.kind } : {}),
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
    },
    reason,
    message,
    type,
    count: 1,
    source: { component },
    reportingComponent: component,
    reportingInstance: component,
    firstTimestamp: now as unknown as Date,
    lastTimestamp: now as unknown as Date,
  };
  try {
    await kube.core.createNamespacedEvent({ namespace, body });
  } catch (e) {
    log.debug({ reason, err: errorMessage(e) }, 'event not recorded');
  }
}
