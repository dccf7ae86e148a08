/**
 * Scheduling predicates shared by the scheduler and the DaemonSet controller, with upstream's
 * plugin semantics and failure reasons (kube-scheduler plugins NodeUnschedulable, TaintToleration,
 * NodeAffinity, NodeResourcesFit).
 */
import type {
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1Pod,
  V1Taint,
  V1Toleration,
} from '@kubernetes/client-node';

/** Parses a resource.Quantity into a number of base units (cores for cpu, bytes for memory). */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(q.trim());
  if (m === null) return Number.NaN;
  const n = Number(m[1]);
  if (m[2] !== undefined) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3];
  const mult: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
  };
  return suffix === undefined ? n : n * (mult[suffix] ?? 1);
}

/** Resource amounts in integral units: cpu in millicores, everything else in base units (rounded up). */
export type Resources = Map<string, number>;

function amount(name: string, q: string | number | undefined): number {
  const v = parseQuantity(q);
  if (!Number.isFinite(v)) return 0;
  return name === 'cpu' ? Math.ceil(v * 1000 - 1e-9) : Math.ceil(v - 1e-9);
}

export function toResources(list: Record<string, string | number> | undefined): Resources {
  const out: Resources = new Map();
  for (const [k, v] of Object.entries(list ?? {})) out.set(k, amount(k, v));
  return out;
}

/**
 * A pod's effective request (computePodResourceRequest): the sum over containers, at least the
 * largest init container, plus overhead. A container with only limits requests its limits
 * (API defaulting on a real server; done here so both behave alike).
 */
export function podRequests(pod: V1Pod): Resources {
  const sum: Resources = new Map();
  const req = (c: {
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  }): Resources => {
    const r = toResources(c.resources?.requests);
    for (const [k, v] of toResources(c.resources?.limits)) if (!r.has(k)) r.set(k, v);
    return r;
  };
  for (const c of pod.spec?.containers ?? []) for (const [k, v] of req(c)) sum.set(k, (sum.get(k) ?? 0) + v);
  for (const c of pod.spec?.initContainers ?? [])
    for (const [k, v] of req(c)) if (v > (sum.get(k) ?? 0)) sum.set(k, v);
  for (const [k, v] of toResources(pod.spec?.overhead)) sum.set(k, (sum.get(k) ?? 0) + v);
  return sum;
}

export type Effect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

/** v1helper.ToleratesTaint. */
export function tolerates(t: V1Toleration, taint: V1Taint): boolean {
  if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== '' && t.key !== taint.key) return false;
  const op = t.operator ?? 'Equal';
  if (op === 'Exists') return true;
  if (op === 'Equal' || op === '') return (t.value ?? '') === (taint.value ?? '');
  return false;
}

/** The first taint with one of `effects` that no toleration tolerates. */
export function untoleratedTaint(
  taints: readonly V1Taint[] | undefined,
  tolerations: readonly V1Toleration[] | undefined,
  effects: readonly Effect[],
): V1Taint | undefined {
  for (const taint of taints ?? []) {
    if (!effects.includes(taint.effect as Effect)) continue;
    if (!(tolerations ?? []).some((t) => tolerates(t, taint))) return taint;
  }
  return undefined;
}

function requirementMatches(r: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const have = Number.parseInt(value, 10);
      const want = Number.parseInt(values[0] ?? '', 10);
      if (!/^-?\d+$/.test(value) || Number.isNaN(want)) return false;
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** One NodeSelectorTerm: all expressions and fields match (an empty term matches nothing). */
export function termMatches(term: V1NodeSelectorTerm, node: V1Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const e of exprs)
    if (!requirementMatches(e, Object.hasOwn(labels, e.key) ? labels[e.key] : undefined)) return false;
  for (const f of fields) {
    // Only metadata.name is a supported node field selector (upstream validation).
    if (f.key !== 'metadata.name' || !requirementMatches(f, node.metadata?.name)) return false;
  }
  return true;
}

/** NodeAffinity filter: spec.nodeSelector AND required node affinity (terms ORed). */
export function matchesNodeSelectorAndAffinity(pod: V1Pod, node: V1Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req !== undefined) {
    const terms = req.nodeSelectorTerms;
    if (!terms.some((t) => termMatches(t, node))) return false;
  }
  return true;
}

/** Sum of the weights of the preferred node affinity terms the node matches. */
export function preferredAffinityScore(pod: V1Pod, node: V1Node): number {
  let s = 0;
  for (const p of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    if (termMatches(p.preference, node)) s += p.weight;
  return s;
}

/** A node's allocatable (falling back to capacity, as the kubelet reports it). */
export function allocatable(node: V1Node): Resources {
  return toResources(node.status?.allocatable ?? node.status?.capacity);
}

/** The filter verdict of one node: undefined when the pod fits, else upstream's reasons. */
export interface FilterFailure {
  reasons: string[];
  /** Unschedulable-and-unresolvable: preemption cannot help (affinity, taints, unschedulable). */
  unresolvable: boolean;
}

/**
 * Runs the filter plugins in upstream's default order, stopping at the first failing one (as
 * the framework's RunFilterPlugins does); NodeResourcesFit lists every insufficient resource.
 */
export function filterNode(
  pod: V1Pod,
  node: V1Node,
  used: Resources,
  usedPods: number,
): FilterFailure | undefined {
  // NodeUnschedulable: tolerated by the unschedulable:NoSchedule toleration.
  if (node.spec?.unschedulable === true) {
    const taint: V1Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
    if (!(pod.spec?.tolerations ?? []).some((t) => tolerates(t, taint)))
      return { reasons: ['node(s) were unschedulable'], unresolvable: true };
  }
  // TaintToleration.
  const taint = untoleratedTaint(node.spec?.taints, pod.spec?.tolerations, ['NoSchedule', 'NoExecute']);
  if (taint !== undefined)
    return {
      reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`],
      unresolvable: true,
    };
  // NodeAffinity.
  if (!matchesNodeSelectorAndAffinity(pod, node))
    return { reasons: ["node(s) didn't match Pod's node affinity/selector"], unresolvable: true };
  // NodeResourcesFit.
  const alloc = allocatable(node);
  const reasons: string[] = [];
  const maxPods = alloc.get('pods') ?? 110;
  if (usedPods + 1 > maxPods) reasons.push('Too many pods');
  const req = podRequests(pod);
  for (const [name, want] of [...req.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (want <= 0 || name === 'pods') continue;
    const have = alloc.get(name) ?? 0;
    if (want > have - (used.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
  }
  if (reasons.length > 0) return { reasons, unresolvable: false };
  return undefined;
}

/**
 * Upstream's FitError message: "0/3 nodes are available: 1 node(s) didn't match Pod's node
 * affinity/selector, 2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: ..."
 * Reasons are counted per node and sorted as strings, like sortReasonsHistogram.
 */
export function fitErrorMessage(numNodes: number, failures: readonly FilterFailure[]): string {
  const histogram = (counts: Map<string, number>): string =>
    [...counts.entries()]
      .map(([r, n]) => `${n} ${r}`)
      .sort()
      .join(', ');
  const reasons = new Map<string, number>();
  for (const f of failures) for (const r of f.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  let msg = `0/${numNodes} nodes are available`;
  if (numNodes === 0) return `${msg}.`;
  msg += `: ${histogram(reasons)}.`;
  const pre = new Map<string, number>();
  for (const f of failures) {
    const r = f.unresolvable
      ? 'Preemption is not helpful for scheduling'
      : 'No preemption victims found for incoming pod';
    pre.set(r, (pre.get(r) ?? 0) + 1);
  }
  return `${msg} preemption: 0/${numNodes} nodes are available: ${histogram(pre)}.`;
}
