/**
 * Column definitions and row cells of upstream's server-side printers
 * (k8s.io/kubernetes/pkg/printers/internalversion/printers.go). The server always prints
 * wide (GenerateOptions{Wide: true}); priority-1 columns are the ones kubectl shows only
 * with `-o wide`.
 */
import { humanDuration, parseTime, since } from './duration.js';
import { COLUMN_DESCRIPTIONS } from './descriptions.js';
import { formatLabels, formatLabelSelector, selectorString } from './labels.js';

type JMap = Record<string, unknown>;

export interface ColumnDefinition {
  readonly name: string;
  readonly type: string;
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

export interface RowCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

export interface Printed {
  readonly cells: unknown[];
  readonly conditions?: RowCondition[];
}

export interface Printer {
  readonly columns: readonly ColumnDefinition[];
  print(obj: JMap, now: number): Printed;
}

// metav1.ObjectMeta{}.SwaggerDoc()
export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const CREATION_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

const col = (
  name: string,
  type: string,
  description: string,
  priority = 0,
  format = '',
): ColumnDefinition => ({
  name,
  type,
  format,
  description,
  priority,
});
const NAME = col('Name', 'string', NAME_DESCRIPTION, 0, 'name');
const AGE = col('Age', 'string', CREATION_DESCRIPTION);
const CONTAINERS = col('Containers', 'string', 'Names of each container in the template.', 1);
const IMAGES = col('Images', 'string', 'Images referenced by each container in the template.', 1);

const isMap = (v: unknown): v is JMap => typeof v === 'object' && v !== null && !Array.isArray(v);
const m = (v: unknown): JMap => (isMap(v) ? v : {});
const arr = (v: unknown): JMap[] => (Array.isArray(v) ? (v as unknown[]).map(m) : []);
const s = (v: unknown): string => (typeof v === 'string' ? v : '');
const n = (v: unknown): number => (typeof v === 'number' ? Math.trunc(v) : 0);
const count = (v: unknown): number => (isMap(v) ? Object.keys(v).length : 0);

const meta = (o: JMap): JMap => m(o.metadata);
const nameOf = (o: JMap): string => s(meta(o).name);
const age = (o: JMap, now: number): string => since(meta(o).creationTimestamp, now);

function layoutContainers(containers: unknown): [string, string] {
  const cs = arr(containers);
  return [cs.map((c) => s(c.name)).join(','), cs.map((c) => s(c.image)).join(',')];
}

// ---------------------------------------------------------------- pods

const isRestartableInit = (c: JMap | undefined): boolean => c?.restartPolicy === 'Always';

function printPod(pod: JMap, now: number): Printed {
  const spec = m(pod.spec);
  const status = m(pod.status);
  const md = meta(pod);
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = arr(spec.containers).length;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;
  const later = (a: number | undefined, b: unknown): number | undefined => {
    const t = parseTime(b);
    return t !== undefined && (a === undefined || a < t) ? t : a;
  };

  const phase = s(status.phase);
  let reason = s(status.reason) !== '' ? s(status.reason) : phase;
  for (const c of arr(status.conditions)) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }
  let conditions: RowCondition[] | undefined;
  if (phase === 'Succeeded') {
    conditions = [
      {
        type: 'Completed',
        status: 'True',
        reason: 'Succeeded',
        message: 'The pod has completed successfully.',
      },
    ];
  } else if (phase === 'Failed') {
    conditions = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
  }

  const initSpecs = new Map<string, JMap>();
  const initContainers = arr(spec.initContainers);
  for (const c of initContainers) {
    initSpecs.set(s(c.name), c);
    if (isRestartableInit(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = arr(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i] ?? {};
    const state = m(c.state);
    const terminated = isMap(state.terminated) ? state.terminated : undefined;
    const waiting = isMap(state.waiting) ? state.waiting : undefined;
    const lastTerminated = m(c.lastState).terminated;
    restarts += n(c.restartCount);
    if (isMap(lastTerminated)) lastRestart = later(lastRestart, lastTerminated.finishedAt);
    const restartable = isRestartableInit(initSpecs.get(s(c.name)));
    if (restartable) {
      restartableInitRestarts += n(c.restartCount);
      if (isMap(lastTerminated))
        lastRestartableInitRestart = later(lastRestartableInitRestart, lastTerminated.finishedAt);
    }
    if (terminated !== undefined && n(terminated.exitCode) === 0) continue;
    if (restartable && c.started === true) {
      if (c.ready === true) readyContainers++;
      continue;
    }
    if (terminated !== undefined) {
      if (s(terminated.reason) === '') {
        reason =
          n(terminated.signal) !== 0
            ? `Init:Signal:${n(terminated.signal)}`
            : `Init:ExitCode:${n(terminated.exitCode)}`;
      } else reason = `Init:${s(terminated.reason)}`;
    } else if (waiting !== undefined && s(waiting.reason) !== '' && waiting.reason !== 'PodInitializing') {
      reason = `Init:${s(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  const initializedTrue = arr(status.conditions).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = arr(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] ?? {};
      const state = m(c.state);
      const terminated = isMap(state.terminated) ? state.terminated : undefined;
      const waiting = isMap(state.waiting) ? state.waiting : undefined;
      restarts += n(c.restartCount);
      const lastTerminated = m(c.lastState).terminated;
      if (isMap(lastTerminated)) lastRestart = later(lastRestart, lastTerminated.finishedAt);
      if (waiting !== undefined && s(waiting.reason) !== '') reason = s(waiting.reason);
      else if (terminated !== undefined && s(terminated.reason) !== '') reason = s(terminated.reason);
      else if (terminated !== undefined) {
        reason =
          n(terminated.signal) !== 0
            ? `Signal:${n(terminated.signal)}`
            : `ExitCode:${n(terminated.exitCode)}`;
      } else if (c.ready === true && isMap(state.running)) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = arr(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True')
        ? 'Running'
        : 'NotReady';
    }
  }

  if (md.deletionTimestamp != null && status.reason === 'NodeLost') reason = 'Unknown';
  else if (md.deletionTimestamp != null && phase !== 'Failed' && phase !== 'Succeeded')
    reason = 'Terminating';

  const restartsStr =
    restarts !== 0 && lastRestart !== undefined
      ? `${restarts} (${humanDuration(now - lastRestart)} ago)`
      : String(restarts);

  const podIPs = arr(status.podIPs);
  let podIP = podIPs.length > 0 ? s(podIPs[0]?.ip) : s(status.podIP);
  if (podIP === '') podIP = '<none>';
  const nodeName = s(spec.nodeName) || '<none>';
  const nominated = s(status.nominatedNodeName) || '<none>';
  let readinessGates = '<none>';
  const gates = arr(spec.readinessGates);
  if (gates.length > 0) {
    let trueConditions = 0;
    for (const g of gates) {
      const c = arr(status.conditions).find((x) => x.type === g.conditionType);
      if (c?.status === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }
  return {
    cells: [
      nameOf(pod),
      `${readyContainers}/${totalContainers}`,
      reason,
      restartsStr,
      age(pod, now),
      podIP,
      nodeName,
      nominated,
      readinessGates,
    ],
    ...(conditions === undefined ? {} : { conditions }),
  };
}

// ---------------------------------------------------------------- nodes

function printNode(node: JMap, now: number): Printed {
  const status = m(node.status);
  const spec = m(node.spec);
  const info = m(status.nodeInfo);
  const states: string[] = [];
  // NodeAllConditions = [Ready]; the last Ready condition wins, as in the map upstream builds.
  const ready = arr(status.conditions)
    .filter((c) => c.type === 'Ready')
    .pop();
  if (ready !== undefined) states.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (states.length === 0) states.push('Unknown');
  if (spec.unschedulable === true) states.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(m(meta(node).labels))) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role !== '') roles.add(role);
    } else if (k === 'kubernetes.io/role' && s(v) !== '') roles.add(s(v));
  }
  const address = (type: string): string =>
    (arr(status.addresses).find((a) => a.type === type)?.address as string | undefined) ?? '<none>';
  return {
    cells: [
      nameOf(node),
      states.join(','),
      roles.size === 0 ? '<none>' : [...roles].sort().join(','),
      age(node, now),
      s(info.kubeletVersion),
      address('InternalIP'),
      address('ExternalIP'),
      s(info.osImage) || '<unknown>',
      s(info.kernelVersion) || '<unknown>',
      s(info.containerRuntimeVersion) || '<unknown>',
    ],
  };
}

// ---------------------------------------------------------------- services & endpoints

function externalIP(svc: JMap): string {
  const spec = m(svc.spec);
  const external = Array.isArray(spec.externalIPs) ? (spec.externalIPs as unknown[]).map(s) : [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return external.length > 0 ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      // wide: the load-balancer list is not clipped
      const lb = [
        ...new Set(
          arr(m(m(svc.status).loadBalancer).ingress)
            .map((i) => s(i.ip) || s(i.hostname))
            .filter((x) => x !== ''),
        ),
      ].sort();
      if (external.length > 0) return [...lb, ...external].join(',');
      return lb.length > 0 ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return s(spec.externalName);
    default:
      return '<unknown>';
  }
}

function printService(svc: JMap, now: number): Printed {
  const spec = m(svc.spec);
  const clusterIPs = Array.isArray(spec.clusterIPs) ? (spec.clusterIPs as unknown[]).map(s) : [];
  const internalIP = clusterIPs[0] ?? (s(spec.clusterIP) || '<none>');
  const ports = arr(spec.ports)
    .map((p) => {
      const proto = s(p.protocol) || 'TCP';
      return n(p.nodePort) > 0 ? `${n(p.port)}:${n(p.nodePort)}/${proto}` : `${n(p.port)}/${proto}`;
    })
    .join(',');
  return {
    cells: [
      nameOf(svc),
      s(spec.type ?? 'ClusterIP'),
      internalIP,
      externalIP(svc),
      ports === '' ? '<none>' : ports,
      age(svc, now),
      formatLabels(spec.selector),
    ],
  };
}

function formatEndpoints(ep: JMap): string {
  const subsets = arr(ep.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let total = 0;
  for (const ss of subsets) {
    const addresses = arr(ss.addresses);
    const ports = arr(ss.ports);
    if (ports.length === 0) {
      total += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(s(a.ip));
      }
      continue;
    }
    for (const p of ports) {
      total += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        const ip = s(a.ip);
        list.push(ip.includes(':') ? `[${ip}]:${n(p.port)}` : `${ip}:${n(p.port)}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${total - max} more...` : ret;
}

// ---------------------------------------------------------------- events

interface EventView {
  readonly name: string;
  readonly type: string;
  readonly reason: string;
  readonly kind: string;
  readonly objName: string;
  readonly fieldPath: string;
  readonly message: string;
  readonly firstTimestamp: unknown;
  readonly lastTimestamp: unknown;
  readonly eventTime: unknown;
  readonly count: number;
  readonly series: JMap | undefined;
  readonly component: string;
  readonly host: string;
  readonly reportingController: string;
  readonly reportingInstance: string;
}

function coreEventView(e: JMap): EventView {
  const io = m(e.involvedObject);
  const src = m(e.source);
  return {
    name: nameOf(e),
    type: s(e.type),
    reason: s(e.reason),
    kind: s(io.kind),
    objName: s(io.name),
    fieldPath: s(io.fieldPath),
    message: s(e.message),
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
    eventTime: e.eventTime,
    count: n(e.count),
    series: isMap(e.series) ? e.series : undefined,
    component: s(src.component),
    host: s(src.host),
    reportingController: s(e.reportingComponent),
    reportingInstance: s(e.reportingInstance),
  };
}

/** events.k8s.io/v1 fields mapped onto the internal (core) Event the printer reads. */
function eventsV1View(e: JMap): EventView {
  const io = m(e.regarding);
  const src = m(e.deprecatedSource);
  return {
    name: nameOf(e),
    type: s(e.type),
    reason: s(e.reason),
    kind: s(io.kind),
    objName: s(io.name),
    fieldPath: s(io.fieldPath),
    message: s(e.note),
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    eventTime: e.eventTime,
    count: n(e.deprecatedCount),
    series: isMap(e.series) ? e.series : undefined,
    component: s(src.component),
    host: s(src.host),
    reportingController: s(e.reportingController),
    reportingInstance: s(e.reportingInstance),
  };
}

function printEvent(v: EventView, now: number): Printed {
  let first = since(v.firstTimestamp, now);
  if (parseTime(v.firstTimestamp) === undefined) first = since(v.eventTime, now);
  let last = since(v.lastTimestamp, now);
  if (parseTime(v.lastTimestamp) === undefined) last = first;
  let count = v.count;
  if (v.series !== undefined) {
    last = since(v.series.lastObservedTime, now);
    count = n(v.series.count);
  } else if (count === 0) count = 1; // singleton events have no count in the new API
  const target = v.objName !== '' ? `${v.kind.toLowerCase()}/${v.objName}` : v.kind.toLowerCase();
  const component = v.component || v.reportingController;
  const instance = v.host || v.reportingInstance;
  const source = instance === '' ? component : `${component}, ${instance}`;
  return {
    cells: [last, v.type, v.reason, target, v.fieldPath, source, v.message.trim(), first, count, v.name],
  };
}

// ---------------------------------------------------------------- table of printers

const EVENT_COLUMNS = [
  col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
  col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
  col(
    'Reason',
    'string',
    "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
  ),
  col('Object', 'string', 'The object that this event is about.'),
  col(
    'Subobject',
    'string',
    'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].',
    1,
  ),
  col(
    'Source',
    'string',
    'The component reporting this event. Should be a short machine understandable string.',
    1,
  ),
  col('Message', 'string', 'A human-readable description of the status of this operation.'),
  col(
    'First Seen',
    'string',
    'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
    1,
  ),
  col('Count', 'string', 'The number of times this event has occurred.', 1),
  col('Name', 'string', NAME_DESCRIPTION, 1, 'name'),
];

const PRINTERS: Readonly<Record<string, Printer>> = {
  '/Pod': {
    columns: [
      NAME,
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col(
        'Restarts',
        'string',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      AGE,
      col(
        'IP',
        'string',
        'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
        1,
      ),
      col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
      col(
        'Nominated Node',
        'string',
        'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.',
        1,
      ),
      col(
        'Readiness Gates',
        'string',
        'If specified, all readiness gates will be evaluated for pod readiness.',
        1,
      ),
    ],
    print: printPod,
  },
  '/Node': {
    columns: [
      NAME,
      col('Status', 'string', 'The status of the node'),
      col('Roles', 'string', 'The roles of the node'),
      AGE,
      col('Version', 'string', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
      col(
        'OS-Image',
        'string',
        'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
        1,
      ),
      col(
        'Kernel-Version',
        'string',
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        1,
      ),
      col(
        'Container-Runtime',
        'string',
        'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
        1,
      ),
    ],
    print: printNode,
  },
  '/Namespace': {
    columns: [NAME, col('Status', 'string', 'The status of the namespace'), AGE],
    print: (o, now) => ({ cells: [nameOf(o), s(m(o.status).phase), age(o, now)] }),
  },
  '/ConfigMap': {
    columns: [NAME, col('Data', 'string', 'Data contains the configuration data.'), AGE],
    print: (o, now) => ({ cells: [nameOf(o), count(o.data) + count(o.binaryData), age(o, now)] }),
  },
  '/Secret': {
    columns: [
      NAME,
      col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
      col('Data', 'string', 'Data contains the secret data.'),
      AGE,
    ],
    print: (o, now) => ({ cells: [nameOf(o), s(o.type), count(o.data), age(o, now)] }),
  },
  '/ServiceAccount': {
    columns: [
      NAME,
      col(
        'Secrets',
        'string',
        'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
      ),
      AGE,
    ],
    print: (o, now) => ({ cells: [nameOf(o), arr(o.secrets).length, age(o, now)] }),
  },
  '/Service': {
    columns: [
      NAME,
      col('Type', 'string', 'type determines how the Service is exposed.'),
      col(
        'Cluster-IP',
        'string',
        'clusterIP is the IP address of the service and is usually assigned randomly.',
      ),
      col(
        'External-IP',
        'string',
        'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
      ),
      col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
      AGE,
      col(
        'Selector',
        'string',
        'Route service traffic to pods with label keys and values matching this selector.',
        1,
      ),
    ],
    print: printService,
  },
  '/Endpoints': {
    columns: [NAME, col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), AGE],
    print: (o, now) => ({ cells: [nameOf(o), formatEndpoints(o), age(o, now)] }),
  },
  '/Event': { columns: EVENT_COLUMNS, print: (o, now) => printEvent(coreEventView(o), now) },
  'events.k8s.io/Event': { columns: EVENT_COLUMNS, print: (o, now) => printEvent(eventsV1View(o), now) },
  'coordination.k8s.io/Lease': {
    columns: [
      NAME,
      col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'),
      AGE,
    ],
    print: (o, now) => ({ cells: [nameOf(o), s(m(o.spec).holderIdentity), age(o, now)] }),
  },
  'apps/Deployment': {
    columns: [
      NAME,
      col('Ready', 'string', 'Number of the pod with ready state'),
      col(
        'Up-to-date',
        'string',
        'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
      ),
      col(
        'Available',
        'string',
        'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
      ),
      AGE,
      CONTAINERS,
      IMAGES,
      col(
        'Selector',
        'string',
        'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
        1,
      ),
    ],
    print: (o, now) => {
      const spec = m(o.spec);
      const status = m(o.status);
      const [names, images] = layoutContainers(m(m(spec.template).spec).containers);
      const desired = spec.replicas === undefined ? 1 : n(spec.replicas);
      return {
        cells: [
          nameOf(o),
          `${n(status.readyReplicas)}/${desired}`,
          n(status.updatedReplicas),
          n(status.availableReplicas),
          age(o, now),
          names,
          images,
          selectorString(spec.selector) ?? '<invalid>',
        ],
      };
    },
  },
  'apps/ReplicaSet': {
    columns: [
      NAME,
      col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
      col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
      col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
      AGE,
      CONTAINERS,
      IMAGES,
      col(
        'Selector',
        'string',
        'Selector is a label query over pods that should match the replica count.',
        1,
      ),
    ],
    print: (o, now) => {
      const spec = m(o.spec);
      const status = m(o.status);
      const [names, images] = layoutContainers(m(m(spec.template).spec).containers);
      return {
        cells: [
          nameOf(o),
          spec.replicas === undefined ? 1 : n(spec.replicas),
          n(status.replicas),
          n(status.readyReplicas),
          age(o, now),
          names,
          images,
          formatLabelSelector(spec.selector),
        ],
      };
    },
  },
  'apps/DaemonSet': {
    columns: [
      NAME,
      col(
        'Desired',
        'integer',
        'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).',
      ),
      col(
        'Current',
        'integer',
        'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
      ),
      col(
        'Ready',
        'integer',
        'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.',
      ),
      col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
      col(
        'Available',
        'integer',
        'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
      ),
      col(
        'Node Selector',
        'string',
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node.",
      ),
      AGE,
      CONTAINERS,
      IMAGES,
      col('Selector', 'string', 'A label query over pods that are managed by the daemon set.', 1),
    ],
    print: (o, now) => {
      const spec = m(o.spec);
      const status = m(o.status);
      const podSpec = m(m(spec.template).spec);
      const [names, images] = layoutContainers(podSpec.containers);
      return {
        cells: [
          nameOf(o),
          n(status.desiredNumberScheduled),
          n(status.currentNumberScheduled),
          n(status.numberReady),
          n(status.updatedNumberScheduled),
          n(status.numberAvailable),
          formatLabels(podSpec.nodeSelector),
          age(o, now),
          names,
          images,
          formatLabelSelector(spec.selector),
        ],
      };
    },
  },
  'apps/StatefulSet': {
    columns: [NAME, col('Ready', 'string', 'Number of the pod with ready state'), AGE, CONTAINERS, IMAGES],
    print: (o, now) => {
      const spec = m(o.spec);
      const [names, images] = layoutContainers(m(m(spec.template).spec).containers);
      const desired = spec.replicas === undefined ? 1 : n(spec.replicas);
      return { cells: [nameOf(o), `${n(m(o.status).readyReplicas)}/${desired}`, age(o, now), names, images] };
    },
  },
  'autoscaling/Scale': {
    columns: [
      col('Name', 'string', NAME_DESCRIPTION),
      col('Desired', 'integer', 'replicas is the desired number of instances for the scaled object.'),
      col(
        'Available',
        'integer',
        'replicas is the actual number of observed instances of the scaled object.',
      ),
      AGE,
    ],
    print: (o, now) => ({ cells: [nameOf(o), n(m(o.spec).replicas), n(m(o.status).replicas), age(o, now)] }),
  },
};

/** rest.NewDefaultTableConvertor: NAME and CREATED AT (RFC 3339, UTC). */
export const DEFAULT_PRINTER: Printer = {
  columns: [NAME, col('Created At', 'date', CREATION_DESCRIPTION)],
  print: (o) => {
    const t = parseTime(meta(o).creationTimestamp);
    const created = new Date(t ?? Date.parse('0001-01-01T00:00:00Z')).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { cells: [nameOf(o), created] };
  },
};

export function printerFor(group: string, kind: string): Printer {
  const key = `${group}/${kind}`;
  const p = PRINTERS[key];
  if (p === undefined) return DEFAULT_PRINTER;
  const docs = COLUMN_DESCRIPTIONS[key];
  if (docs === undefined) return p;
  return { ...p, columns: p.columns.map((c) => ({ ...c, description: docs[c.name] ?? c.description })) };
}
