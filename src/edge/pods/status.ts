import type { Container, ContainerStatus, Pod } from '../cri/index.js';

/**
 * Pod status shaped like upstream kubelet's (pkg/kubelet/kubelet_pods.go generateAPIPodStatus,
 * getPhase; pkg/kubelet/status/generate.go for the conditions). Pure functions over what the
 * runtime reports and what the prober decided.
 */

export type Json = Record<string, unknown>;

/** metav1.Time: RFC 3339 with second precision. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

export function containerIdUri(id: string): string {
  return `containerd://${id}`;
}

export function terminatedState(s: ContainerStatus): Json {
  return {
    terminated: {
      exitCode: s.exitCode,
      reason: s.reason === '' ? (s.exitCode === 0 ? 'Completed' : 'Error') : s.reason,
      ...(s.message === '' ? {} : { message: s.message }),
      startedAt: s.startedAtNs === 0n ? null : rfc3339(nsToMs(s.startedAtNs)),
      finishedAt: s.finishedAtNs === 0n ? null : rfc3339(nsToMs(s.finishedAtNs)),
      containerID: containerIdUri(s.id),
    },
  };
}

export interface ContainerView {
  readonly spec: Container;
  /** The latest container of this name in the current sandbox (or the last one seen). */
  readonly current: ContainerStatus | undefined;
  /** The one before it (its termination is lastState). */
  readonly previous: ContainerStatus | undefined;
  readonly restartCount: number;
  /** Why it is waiting when not running: CrashLoopBackOff, ErrImagePull, … */
  readonly waiting: { reason: string; message?: string } | undefined;
  readonly ready: boolean;
  readonly started: boolean;
}

export function containerStatusJson(v: ContainerView, defaultWaiting: string): Json {
  const cur = v.current;
  let state: Json;
  let lastState: Json = v.previous?.state === 'exited' ? terminatedState(v.previous) : {};
  if (cur === undefined || cur.state === 'created' || cur.state === 'unknown') {
    state = { waiting: v.waiting ?? { reason: defaultWaiting } };
  } else if (cur.state === 'running') {
    state = { running: { startedAt: rfc3339(nsToMs(cur.startedAtNs)) } };
  } else if (v.waiting !== undefined) {
    // Waiting to be restarted: the exited container becomes lastState (kubelet convertToAPIContainerStatuses).
    state = { waiting: v.waiting };
    lastState = terminatedState(cur);
  } else {
    state = terminatedState(cur);
  }
  const out: Json = {
    name: v.spec.name,
    state,
    lastState,
    ready: v.ready,
    restartCount: v.restartCount,
    image: v.spec.image ?? '',
    imageID: cur?.imageRef ?? '',
    started: v.started,
  };
  if (cur !== undefined) out['containerID'] = containerIdUri(cur.id);
  return out;
}

type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** kubelet getPhase (1.34), with restartable init containers (sidecars, KEP-753). */
export function podPhase(pod: Pod, init: readonly ContainerView[], regular: readonly ContainerView[]): Phase {
  const policy = pod.spec.restartPolicy ?? 'Always';
  let pendingInit = false;
  let pendingSidecars = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const v of init) {
    const s = v.current;
    if (v.spec.restartPolicy === 'Always') {
      // A terminated sidecar counts neither as running nor as stopped.
      if (s?.state === 'running') {
        running++;
        if (!v.started) pendingSidecars++;
      } else if (s?.state !== 'exited' && v.previous?.state !== 'exited') pendingSidecars++;
      continue;
    }
    if (s?.state === 'exited' && s.exitCode === 0) continue;
    if (s?.state === 'exited' && policy === 'Never') return 'Failed';
    pendingInit = true;
  }
  // kubelet HasAnyRegularContainerStarted: the pod has initialized once a main container exists.
  const initialized = regular.some((v) => v.current !== undefined || v.previous !== undefined);
  for (const v of regular) {
    const s = v.current;
    if (s?.state === 'running') running++;
    else if (s?.state === 'exited' && v.waiting === undefined) {
      stopped++;
      if (s.exitCode === 0) succeeded++;
    } else if (s?.state === 'exited' || v.previous?.state === 'exited') {
      stopped++; // waiting to restart after having run: counts as stopped (lastState.terminated set)
    } else waiting++;
  }
  if (pendingInit || (pendingSidecars > 0 && !initialized)) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export interface Condition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
}

/** The five conditions kubelet ≥ 1.29 reports, in its order. */
export function podConditions(
  phase: Phase,
  sandboxReady: boolean,
  init: readonly ContainerView[],
  regular: readonly ContainerView[],
): Condition[] {
  // A sidecar counts as initialized once started; its readiness counts for the pod (KEP-753).
  const sidecar = (v: ContainerView): boolean => v.spec.restartPolicy === 'Always';
  const incomplete = init
    .filter((v) => (sidecar(v) ? !v.started : !(v.current?.state === 'exited' && v.current.exitCode === 0)))
    .map((v) => v.spec.name);
  const unready = [...init.filter(sidecar), ...regular].filter((v) => !v.ready).map((v) => v.spec.name);
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const initialized: Condition =
    incomplete.length === 0 || completed
      ? { type: 'Initialized', status: 'True' }
      : {
          type: 'Initialized',
          status: 'False',
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${incomplete.join(' ')}]`,
        };
  const readiness = (type: string): Condition => {
    if (completed) return { type, status: 'False', reason: 'PodCompleted' };
    if (unready.length === 0) return { type, status: 'True' };
    return {
      type,
      status: 'False',
      reason: 'ContainersNotReady',
      message: `containers with unready status: [${unready.join(' ')}]`,
    };
  };
  return [
    { type: 'PodReadyToStartContainers', status: sandboxReady ? 'True' : 'False' },
    initialized,
    readiness('Ready'),
    readiness('ContainersReady'),
    { type: 'PodScheduled', status: 'True' },
  ];
}

/**
 * Adds lastTransitionTime (kept from the previous status while the condition's status is
 * unchanged, as kubelet does) and probeTime null.
 */
export function stampConditions(
  conds: readonly Condition[],
  previous: readonly Json[],
  nowMs: number,
): Json[] {
  return conds.map((c) => {
    const prev = previous.find((p) => p['type'] === c.type);
    const same =
      prev !== undefined && prev['status'] === c.status && typeof prev['lastTransitionTime'] === 'string';
    return {
      type: c.type,
      status: c.status,
      lastProbeTime: null,
      lastTransitionTime: same ? prev['lastTransitionTime'] : rfc3339(nowMs),
      ...(c.reason === undefined ? {} : { reason: c.reason }),
      ...(c.message === undefined ? {} : { message: c.message }),
    };
  });
}
