/**
 * Typical messages, shared by the protocol tests and bench/codec.ts: a ~3 KB pod `sync`,
 * a pod `status`, an `ack`, a 32 KB `streamData` frame, and one valid example of every kind.
 */
import {
  messageId,
  nodeName,
  PROTOCOL_VERSION,
  resourceVersion,
  sessionId,
  streamId,
  uid,
  type Envelope,
  type JsonObject,
  type Kind,
} from '../../src/protocol/index.js';

const TS = 1_795_000_000_000;

/** A realistic Deployment-created pod as the API server returns it (~3 KB as JSON). */
export function podObject(i = 0): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-7d9f8b6c5d-x${i}k2p`,
      generateName: 'web-7d9f8b6c5d-',
      namespace: 'default',
      uid: `4f1c2a9e-7b3d-4e5f-9a1b-2c3d4e5f6a${String(i % 100).padStart(2, '0')}`,
      resourceVersion: String(123456 + i),
      creationTimestamp: '2026-11-26T17:40:43Z',
      labels: { app: 'web', 'pod-template-hash': '7d9f8b6c5d', tier: 'frontend' },
      annotations: {
        'kubectl.kubernetes.io/restartedAt': '2026-11-26T17:40:00Z',
        'tether.io/checksum': 'sha256:8f14e45fceea167a5a36dedd4bea2543e2f1c0c4a1f5e6b7c8d9e0f1a2b3c4d5',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d9f8b6c5d',
          uid: '9a8b7c6d-5e4f-3a2b-1c0d-efabcdef0123',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      nodeName: 'edge-0042',
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      schedulerName: 'default-scheduler',
      priority: 0,
      enableServiceLinks: true,
      nodeSelector: { 'node-role.tether.io/edge': '' },
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: 'web-config', defaultMode: 420 } },
        { name: 'cache', emptyDir: { sizeLimit: '64Mi' } },
        { name: 'tls', secret: { secretName: 'web-tls', defaultMode: 384 } },
      ],
      containers: [
        {
          name: 'web',
          image: 'localhost:5000/tether/shell:1',
          imagePullPolicy: 'IfNotPresent',
          command: ['httpd', '-f', '-p', '8080', '-h', '/srv'],
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'MODE', value: 'production' },
            { name: 'LOG_LEVEL', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'logLevel' } } },
            { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'web-secret', key: 'token' } } },
          ],
          resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
          volumeMounts: [
            { name: 'config', mountPath: '/etc/web', readOnly: true },
            { name: 'cache', mountPath: '/var/cache/web' },
            { name: 'tls', mountPath: '/etc/tls', readOnly: true },
          ],
          livenessProbe: {
            tcpSocket: { port: 8080 },
            initialDelaySeconds: 5,
            periodSeconds: 10,
            timeoutSeconds: 1,
            failureThreshold: 3,
            successThreshold: 1,
          },
          readinessProbe: {
            exec: { command: ['sh', '-c', 'nc -z 127.0.0.1 8080'] },
            periodSeconds: 5,
            timeoutSeconds: 1,
            failureThreshold: 3,
            successThreshold: 1,
          },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      initContainers: [
        {
          name: 'init',
          image: 'localhost:5000/tether/shell:1',
          command: ['sh', '-c', 'mkdir -p /var/cache/web && echo ready'],
          volumeMounts: [{ name: 'cache', mountPath: '/var/cache/web' }],
          imagePullPolicy: 'IfNotPresent',
          resources: {},
        },
      ],
    },
    status: {
      phase: 'Pending',
      qosClass: 'Burstable',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'True',
          lastProbeTime: null,
          lastTransitionTime: '2026-11-26T17:40:43Z',
        },
      ],
    },
  };
}

/** The `.status` of a running pod as the edge reports it. */
export function podStatusPayload(i = 0): JsonObject {
  return {
    phase: 'Running',
    hostIP: '10.88.0.1',
    podIP: `10.88.0.${(i % 250) + 2}`,
    podIPs: [{ ip: `10.88.0.${(i % 250) + 2}` }],
    startTime: '2026-11-26T17:40:44Z',
    qosClass: 'Burstable',
    conditions: [
      { type: 'Initialized', status: 'True', lastTransitionTime: '2026-11-26T17:40:45Z' },
      { type: 'Ready', status: 'True', lastTransitionTime: '2026-11-26T17:40:50Z' },
      { type: 'ContainersReady', status: 'True', lastTransitionTime: '2026-11-26T17:40:50Z' },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-11-26T17:40:43Z' },
    ],
    containerStatuses: [
      {
        name: 'web',
        ready: true,
        started: true,
        restartCount: 0,
        image: 'localhost:5000/tether/shell:1',
        imageID:
          'localhost:5000/tether/shell@sha256:3b1f0c9d2e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c',
        containerID: 'containerd://5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f',
        state: { running: { startedAt: '2026-11-26T17:40:46Z' } },
        lastState: {},
      },
    ],
  };
}

const key = { group: '', version: 'v1', kind: 'Pod', namespace: 'default', name: 'web-7d9f8b6c5d-x0k2p' };

export const podSync: Envelope<'sync'> = {
  v: PROTOCOL_VERSION,
  id: messageId('c1.4f2'),
  ts: TS,
  kind: 'sync',
  seq: 1042,
  op: 'upsert',
  key,
  uid: uid('4f1c2a9e-7b3d-4e5f-9a1b-2c3d4e5f6a00'),
  resourceVersion: resourceVersion('123456'),
  object: podObject(0),
};

export const podStatus: Envelope<'status'> = {
  v: PROTOCOL_VERSION,
  id: messageId('e7.19a'),
  ts: TS,
  kind: 'status',
  key,
  uid: uid('4f1c2a9e-7b3d-4e5f-9a1b-2c3d4e5f6a00'),
  write: { type: 'podStatus', payload: podStatusPayload(0) },
};

export const syncAck: Envelope<'ack'> = {
  v: PROTOCOL_VERSION,
  id: messageId('e7.19b'),
  ts: TS,
  kind: 'ack',
  of: 'sync',
  seq: 1042,
};

/** 32 KB of stdout bytes (not all ASCII, so nothing could pass them as text). */
export function streamDataFrame(size = 32 * 1024): Envelope<'streamData'> {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 131 + 7) & 0xff;
  return {
    v: PROTOCOL_VERSION,
    id: messageId('e7.1a0'),
    ts: TS,
    kind: 'streamData',
    stream: streamId('s-9'),
    channel: 1,
    data,
  };
}

const h = (id: string) => ({ v: PROTOCOL_VERSION, id: messageId(id), ts: TS }) as const;

/** At least one valid message of every kind, including each variant of the inner unions. */
export const EXAMPLES: readonly Envelope[] = [
  { ...h('e1'), kind: 'hello', agentVersion: '0.1.0', protocols: [1] },
  { ...h('e2'), kind: 'hello', agentVersion: '0.1.0', protocols: [1, 2], features: ['streams', 'devices'] },
  {
    ...h('c1'),
    kind: 'welcome',
    session: sessionId('sess-1'),
    protocol: 1,
    node: nodeName('edge-0042'),
    serverTime: TS + 5,
    settings: {
      windowSize: 64,
      keepaliveMs: 15_000,
      missedPongLimit: 3,
      maxFrameBytes: 4 << 20,
      inventoryChunk: 500,
    },
  },
  {
    ...h('e3'),
    kind: 'inventory',
    chunk: 0,
    last: false,
    items: [
      { key, uid: uid('u1'), resourceVersion: resourceVersion('10') },
      {
        key: { group: '', version: 'v1', kind: 'Node', name: 'edge-0042' },
        uid: uid('u2'),
        resourceVersion: resourceVersion('11'),
      },
    ],
  },
  { ...h('e4'), kind: 'inventory', chunk: 1, last: true, items: [] },
  podSync,
  {
    ...h('c2'),
    kind: 'sync',
    seq: 1043,
    op: 'delete',
    key,
    uid: uid('u1'),
    resourceVersion: resourceVersion('10'),
  },
  syncAck,
  { ...h('c3'), kind: 'ack', of: 'status', ref: messageId('e7.19a') },
  {
    ...h('e5'),
    kind: 'nack',
    of: 'sync',
    seq: 7,
    reason: 'STORE_FAILED',
    message: 'disk full',
    retryable: true,
  },
  {
    ...h('c4'),
    kind: 'nack',
    of: 'status',
    ref: messageId('e7.19a'),
    reason: 'REJECTED',
    message: 'admission denied',
    retryable: false,
  },
  {
    ...h('c5'),
    kind: 'nack',
    of: 'message',
    reason: 'INVALID',
    message: 'frame too large',
    retryable: false,
  },
  {
    ...h('c6'),
    kind: 'nack',
    of: 'message',
    ref: messageId('x'),
    reason: 'UNSUPPORTED',
    message: 'unknown kind',
    retryable: false,
  },
  podStatus,
  {
    ...h('e6'),
    kind: 'status',
    key: { group: '', version: 'v1', kind: 'Node', name: 'edge-0042' },
    write: { type: 'nodeStatus', payload: { conditions: [] } },
  },
  {
    ...h('e7'),
    kind: 'status',
    key: {
      group: 'coordination.k8s.io',
      version: 'v1',
      kind: 'Lease',
      namespace: 'kube-node-lease',
      name: 'edge-0042',
    },
    write: {
      type: 'lease',
      payload: {
        holderIdentity: 'edge-0042',
        renewTime: '2026-11-26T17:40:43.000000Z',
        leaseDurationSeconds: 40,
      },
    },
  },
  {
    ...h('e8'),
    kind: 'status',
    key,
    write: {
      type: 'event',
      payload: { reason: 'Started', message: 'Started container web', type: 'Normal' },
    },
  },
  {
    ...h('e9'),
    kind: 'status',
    key: {
      group: 'devices.tether.io',
      version: 'v1alpha1',
      kind: 'Device',
      namespace: 'default',
      name: 'thermo-1',
    },
    write: {
      type: 'deviceStatus',
      payload: { twins: [{ property: 'temperature', reported: { value: '21.5' } }] },
    },
  },
  {
    ...h('e10'),
    kind: 'event',
    name: 'health.verdict',
    payload: { verdict: 'Degraded', summary: 'cpu:02 disk:01' },
  },
  { ...h('c7'), kind: 'event', name: 'sync.resyncSoon', key, payload: {} },
  {
    ...h('e11'),
    kind: 'query',
    method: 'certRotate',
    params: { csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n' },
    timeoutMs: 10_000,
  },
  { ...h('c8'), kind: 'query', method: 'health', params: { includeUnits: true } },
  { ...h('c9'), kind: 'query', method: 'resync', params: {} },
  {
    ...h('c10'),
    kind: 'reply',
    ref: messageId('e11'),
    method: 'certRotate',
    result: { certificate: 'PEM', caBundle: 'PEM', notAfter: TS + 86_400_000 },
  },
  {
    ...h('e12'),
    kind: 'reply',
    ref: messageId('c8'),
    method: 'health',
    result: { verdict: 'Healthy', summary: 'cpu:01 mem:01', units: [{ name: 'cpu', output: '01' }] },
  },
  { ...h('e13'), kind: 'reply', ref: messageId('c9'), method: 'resync', result: { accepted: true } },
  {
    ...h('e14'),
    kind: 'reply',
    ref: messageId('c8'),
    method: 'error',
    code: 'TIMEOUT',
    message: 'health units did not answer',
  },
  {
    ...h('c11'),
    kind: 'streamOpen',
    stream: streamId('s-1'),
    target: { namespace: 'default', pod: 'web', container: 'web' },
    what: {
      type: 'logs',
      follow: true,
      timestamps: false,
      previous: false,
      tailLines: 100,
      sinceSeconds: 60,
      limitBytes: 1 << 20,
    },
    window: 256 * 1024,
  },
  {
    ...h('c12'),
    kind: 'streamOpen',
    stream: streamId('s-2'),
    target: { namespace: 'default', pod: 'web', uid: uid('u1') },
    what: {
      type: 'logs',
      follow: false,
      timestamps: true,
      previous: true,
      sinceTime: '2026-11-26T17:00:00Z',
    },
    window: 65536,
  },
  {
    ...h('c13'),
    kind: 'streamOpen',
    stream: streamId('s-3'),
    target: { namespace: 'default', pod: 'web', container: 'web' },
    what: {
      type: 'exec',
      command: ['sh', '-c', 'echo hi'],
      stdin: true,
      stdout: true,
      stderr: false,
      tty: true,
    },
    window: 65536,
  },
  {
    ...h('c14'),
    kind: 'streamOpen',
    stream: streamId('s-4'),
    target: { namespace: 'default', pod: 'web' },
    what: { type: 'attach', stdin: false, stdout: true, stderr: true, tty: false },
    window: 65536,
  },
  {
    ...h('c15'),
    kind: 'streamOpen',
    stream: streamId('s-5'),
    target: { namespace: 'default', pod: 'web' },
    what: { type: 'portForward', port: 8080 },
    window: 65536,
  },
  streamDataFrame(64),
  { ...h('c16'), kind: 'streamData', stream: streamId('s-3'), channel: 0, data: new Uint8Array(0) },
  { ...h('c17'), kind: 'streamWindow', stream: streamId('s-3'), credit: 65536 },
  { ...h('c18'), kind: 'streamResize', stream: streamId('s-3'), cols: 120, rows: 40 },
  { ...h('e15'), kind: 'streamClose', stream: streamId('s-3'), end: { type: 'exit', code: 137 } },
  {
    ...h('e16'),
    kind: 'streamClose',
    stream: streamId('s-2'),
    end: { type: 'error', message: 'container not found' },
  },
  { ...h('c19'), kind: 'streamClose', stream: streamId('s-1'), end: { type: 'closed' } },
  { ...h('c20'), kind: 'ping' },
  { ...h('e17'), kind: 'pong', ref: messageId('c20'), echo: TS },
];

/** Kinds covered by EXAMPLES (the round-trip test checks it is every kind). */
export const EXAMPLE_KINDS: ReadonlySet<Kind> = new Set(EXAMPLES.map((e) => e.kind));
