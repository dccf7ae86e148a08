import type { MessageId, NodeName, ObjectKey, ResourceVersion, SessionId, StreamId, Uid } from './ids.js';

/**
 * The cloud–edge envelope (DESIGN §2, STYLE §4): one typed, versioned message, a discriminated
 * union on `kind`. Direction and delivery semantics of each kind are in `DELIVERY`.
 * docs/protocol.md describes every field; keep the two in step.
 */

/** The only envelope version this code speaks. A frame with another `v` is UNSUPPORTED_VERSION. */
export const PROTOCOL_VERSION = 1;
export type ProtocolVersion = typeof PROTOCOL_VERSION;

/** The envelope version the cloud picks from `hello.protocols`; undefined: no common version (close the session). */
export function chooseProtocol(offered: readonly number[]): ProtocolVersion | undefined {
  return offered.includes(PROTOCOL_VERSION) ? PROTOCOL_VERSION : undefined;
}

/** A JSON value as it crosses the wire (no undefined, no NaN/Infinity, no binary). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [k: string]: JsonValue;
}

/** Fields every envelope has. `ts` is the sender's wall clock in ms since the epoch. */
export interface EnvelopeHeader {
  readonly v: ProtocolVersion;
  readonly id: MessageId;
  readonly ts: number;
}

// ── session ──────────────────────────────────────────────────────────────────────────────

/** edge → cloud, first frame on a connection. Carries NO node name: identity is the TLS client cert (DESIGN §2). */
export interface HelloBody {
  readonly kind: 'hello';
  readonly agentVersion: string;
  /** Envelope versions the edge can speak, e.g. [1]. */
  readonly protocols: readonly number[];
  /** Optional feature flags (e.g. 'streams', 'devices'); unknown ones are ignored. */
  readonly features?: readonly string[];
}

/** cloud → edge, answer to hello: the session and the negotiated settings the edge must follow. */
export interface WelcomeBody {
  readonly kind: 'welcome';
  readonly session: SessionId;
  /** The envelope version chosen from hello.protocols. */
  readonly protocol: number;
  /** The node this session belongs to, as taken from the client certificate (echo only). */
  readonly node: NodeName;
  /** Cloud wall clock (ms) when sending; with the envelope ts the edge estimates clock skew. */
  readonly serverTime: number;
  readonly settings: SessionSettings;
  /**
   * What the cloud does on this session beyond protocol v1 (see CLOUD_FEATURES); an edge acts on
   * the flags it knows and ignores the rest, and an older cloud sends none.
   */
  readonly features?: readonly string[];
}

/**
 * Feature flags a cloud may put in `welcome.features`.
 * - `leaseByCloud`: the cloud renews the node's Lease in kube-node-lease itself while the session
 *   is live (issue 12), so the edge stops queuing `lease` writes; a cloud still accepts them.
 */
export const CLOUD_FEATURES = { leaseByCloud: 'leaseByCloud' } as const satisfies Record<string, string>;

export interface SessionSettings {
  /** Max downstream `sync` messages in flight (sent, not yet acked). */
  readonly windowSize: number;
  /** Interval between application pings (ms). */
  readonly keepaliveMs: number;
  /** Pongs missed in a row after which the session is considered dead (STYLE §6). */
  readonly missedPongLimit: number;
  /** Largest frame either side may send (bytes). */
  readonly maxFrameBytes: number;
  /** Max items per `inventory` chunk. */
  readonly inventoryChunk: number;
}

/** One object the edge holds in its store (DESIGN §2 inventory diff). */
export interface InventoryItem {
  readonly key: ObjectKey;
  readonly uid: Uid;
  readonly resourceVersion: ResourceVersion;
}

/**
 * edge → cloud after welcome: everything the edge store holds, in chunks numbered from 0;
 * `last` on the final one (an empty store sends one chunk `{ chunk: 0, last: true, items: [] }`).
 */
export interface InventoryBody {
  readonly kind: 'inventory';
  readonly chunk: number;
  readonly last: boolean;
  readonly items: readonly InventoryItem[];
}

// ── downstream objects ───────────────────────────────────────────────────────────────────

/** cloud → edge: the latest state of one object. `seq` increases per node queue; acked by seq. */
export interface SyncUpsertBody {
  readonly kind: 'sync';
  readonly seq: number;
  readonly op: 'upsert';
  readonly key: ObjectKey;
  readonly uid: Uid;
  /**
   * The *sync version* the cloud chose for this object, compared only for equality: the
   * object's resourceVersion, or for Pods and Nodes (whose status the edge writes itself) a
   * digest of metadata+spec, so status echoes are not re-sent. May differ from
   * `object.metadata.resourceVersion`; inventory items report the same value back.
   */
  readonly resourceVersion: ResourceVersion;
  /** The whole Kubernetes object as JSON (apiVersion, kind, metadata, spec, …). */
  readonly object: JsonObject;
}

/** cloud → edge: the object (this uid) no longer exists or no longer belongs to the node. */
export interface SyncDeleteBody {
  readonly kind: 'sync';
  readonly seq: number;
  readonly op: 'delete';
  readonly key: ObjectKey;
  readonly uid: Uid;
  /** Last resourceVersion the cloud knew; the edge deletes only if it holds this uid. */
  readonly resourceVersion: ResourceVersion;
}

export type SyncBody = SyncUpsertBody | SyncDeleteBody;
export type SyncOp = SyncBody['op'];

// ── acknowledgements ─────────────────────────────────────────────────────────────────────

/** Acknowledges a downstream `sync` (sent by the edge only after the change is durable in its store). */
export interface AckSyncBody {
  readonly kind: 'ack';
  readonly of: 'sync';
  readonly seq: number;
}

/** Acknowledges an upstream `status` (sent by the cloud only after Kubernetes accepted the write). */
export interface AckStatusBody {
  readonly kind: 'ack';
  readonly of: 'status';
  readonly ref: MessageId;
}

export type AckBody = AckSyncBody | AckStatusBody;

/** Reasons of a nack; a stable list so both sides can act on them. */
export const NACK_REASONS = [
  /** the message was malformed or failed validation */
  'INVALID',
  /** the receiver does not know or allow this message kind / method */
  'UNSUPPORTED',
  /** the target object is gone (e.g. status for a deleted pod) */
  'NOT_FOUND',
  /** Kubernetes refused the write (admission, RBAC, …) */
  'REJECTED',
  /** optimistic concurrency conflict that re-reading did not resolve */
  'CONFLICT',
  /** the edge store could not persist the change (disk full, I/O error) */
  'STORE_FAILED',
  /** the receiver is overloaded; try later */
  'BUSY',
  /** any other failure on the receiving side */
  'INTERNAL',
] as const;
export type NackReason = (typeof NACK_REASONS)[number];

interface NackCommon {
  readonly kind: 'nack';
  readonly reason: NackReason;
  readonly message: string;
  /** true: the sender should retry (with back-off); false: drop it and log. */
  readonly retryable: boolean;
}
export interface NackSyncBody extends NackCommon {
  readonly of: 'sync';
  readonly seq: number;
}
export interface NackStatusBody extends NackCommon {
  readonly of: 'status';
  readonly ref: MessageId;
}
/** A rejected frame of any other kind; `ref` is absent when the frame's id could not be read. */
export interface NackMessageBody extends NackCommon {
  readonly of: 'message';
  readonly ref?: MessageId;
}
export type NackBody = NackSyncBody | NackStatusBody | NackMessageBody;

// ── upstream writes ──────────────────────────────────────────────────────────────────────

/** What an upstream `status` writes; each payload is a JSON object of the Kubernetes shape. */
export const STATUS_WRITE_TYPES = ['podStatus', 'nodeStatus', 'lease', 'event', 'deviceStatus'] as const;
export type StatusWriteType = (typeof STATUS_WRITE_TYPES)[number];

export interface StatusWrite<T extends StatusWriteType = StatusWriteType> {
  /**
   * podStatus: the Pod `.status`; nodeStatus: the Node `.status` (conditions, capacity, …);
   * lease: the Lease `.spec` (renewTime, holderIdentity, …); event: a core/v1 Event to create;
   * deviceStatus: the Device `.status` (twins, reported values).
   */
  readonly type: T;
  readonly payload: JsonObject;
}

/**
 * edge → cloud: one durable write from the edge outbox, coalesced by (key, write.type)
 * (DESIGN §2 upstream). `id` stays the same on every resend; the cloud acks by it.
 */
export interface StatusBody {
  readonly kind: 'status';
  readonly key: ObjectKey;
  /** Precondition: the write is for this incarnation of the object (pods recreated with the same name). */
  readonly uid?: Uid;
  readonly write: StatusWrite;
}

/**
 * Best-effort notification, either direction, never acked and never stored (e.g. a health
 * verdict change, "resync soon"). Durable Kubernetes Events go upstream as `status` writes of
 * type `event` instead.
 */
export interface EventBody {
  readonly kind: 'event';
  /** Dotted name, e.g. `health.verdict`. */
  readonly name: string;
  readonly key?: ObjectKey;
  readonly payload: JsonObject;
}

// ── request / response ───────────────────────────────────────────────────────────────────

/** Typed query methods: params and result of each (both directions; see DELIVERY). */
export interface QueryMethods {
  /** edge → cloud: renew the node's client certificate from a CSR (PEM) before it expires. */
  certRotate: {
    params: { readonly csr: string };
    result: { readonly certificate: string; readonly caBundle: string; readonly notAfter: number };
  };
  /** cloud → edge: the current health verdict (DESIGN §4). */
  health: {
    params: { readonly includeUnits?: boolean };
    result: {
      readonly verdict: 'Healthy' | 'Degraded' | 'Unhealthy';
      /** compact status string listing each unit's output */
      readonly summary: string;
      readonly units?: readonly JsonObject[];
    };
  };
  /**
   * edge → cloud: a service account token for a projected volume of one of the node's own pods
   * (NodeRestriction); the cloud calls TokenRequest bound to the pod (docs/kubelet.md).
   */
  serviceAccountToken: {
    params: {
      readonly namespace: string;
      readonly pod: string;
      readonly podUid: string;
      readonly serviceAccountName: string;
      /** Absent: the API server's own audiences. */
      readonly audience?: string;
      readonly expirationSeconds: number;
    };
    /** expirationTimestamp as TokenRequest status has it (RFC 3339). */
    result: { readonly token: string; readonly expirationTimestamp: string };
  };
  /** cloud → edge: resend the inventory (e.g. after the cloud lost its per-node state). */
  resync: {
    params: Readonly<Record<string, never>>;
    result: { readonly accepted: boolean };
  };
}
export type QueryMethod = keyof QueryMethods;
export const QUERY_METHODS = [
  'certRotate',
  'health',
  'resync',
  'serviceAccountToken',
] as const satisfies readonly QueryMethod[];

export type QueryBody<M extends QueryMethod = QueryMethod> = {
  [K in M]: {
    readonly kind: 'query';
    readonly method: K;
    readonly params: QueryMethods[K]['params'];
    /** How long the asker waits (ms); the answerer may give up after it. */
    readonly timeoutMs?: number;
  };
}[M];

/** Reply to query `ref`: the method's result, or an open `error`. */
export type ReplyBody<M extends QueryMethod = QueryMethod> =
  | {
      [K in M]: {
        readonly kind: 'reply';
        readonly ref: MessageId;
        readonly method: K;
        readonly result: QueryMethods[K]['result'];
      };
    }[M]
  | ReplyErrorBody;

export interface ReplyErrorBody {
  readonly kind: 'reply';
  readonly ref: MessageId;
  readonly method: 'error';
  /** Open set of codes, e.g. 'UNSUPPORTED', 'TIMEOUT', 'CSR_REJECTED'. */
  readonly code: string;
  readonly message: string;
}

// ── streams: logs / exec / attach / port-forward ─────────────────────────────────────────

/** The container a stream is about (for `metrics`: none, namespace and pod are ''). */
export interface StreamTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly uid?: Uid;
  /** Absent: the pod's only/default container. */
  readonly container?: string;
}

/** Options of `kubectl logs` (k8s PodLogOptions). */
export interface LogsOptions {
  readonly type: 'logs';
  readonly follow: boolean;
  readonly timestamps: boolean;
  readonly previous: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  /** RFC 3339 time. */
  readonly sinceTime?: string;
  readonly limitBytes?: number;
}
/** Options of `kubectl exec` (k8s PodExecOptions). */
export interface ExecOptions {
  readonly type: 'exec';
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}
/** Options of `kubectl attach` (k8s PodAttachOptions). */
export interface AttachOptions {
  readonly type: 'attach';
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}
/** One forwarded port per stream: data on channel 0 (both ways), errors on channel 3. */
export interface PortForwardOptions {
  readonly type: 'portForward';
  readonly port: number;
}
/** The paths of a kubelet's Prometheus endpoints an edge serves (monitoring: docs/streams.md). */
export const METRICS_PATHS = ['/metrics', '/metrics/resource'] as const;
export type MetricsPath = (typeof METRICS_PATHS)[number];
/**
 * One scrape of the edge's metrics, answered like a non-follow log: the text on channel 1, then
 * close. The stream's target names no pod (namespace and pod are empty): it is the node itself.
 */
export interface MetricsOptions {
  readonly type: 'metrics';
  readonly path: MetricsPath;
}
export type StreamWhat = LogsOptions | ExecOptions | AttachOptions | PortForwardOptions | MetricsOptions;
export type StreamType = StreamWhat['type'];

/** cloud → edge: open a stream. `window` is the initial send credit (bytes) granted to the edge. */
export interface StreamOpenBody {
  readonly kind: 'streamOpen';
  readonly stream: StreamId;
  readonly target: StreamTarget;
  readonly what: StreamWhat;
  readonly window: number;
}

/** k8s remotecommand channels: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize. */
export const STREAM_CHANNELS = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;
export type StreamChannel = (typeof STREAM_CHANNELS)[keyof typeof STREAM_CHANNELS];

/** Bytes on one channel. Binary stays binary: a MessagePack `bin`, never base64. */
export interface StreamDataBody {
  readonly kind: 'streamData';
  readonly stream: StreamId;
  readonly channel: StreamChannel;
  readonly data: Uint8Array;
}

/** Flow control: the receiver grants the sender `credit` more bytes of streamData. */
export interface StreamWindowBody {
  readonly kind: 'streamWindow';
  readonly stream: StreamId;
  readonly credit: number;
}

/** Terminal size change (tty exec/attach). */
export interface StreamResizeBody {
  readonly kind: 'streamResize';
  readonly stream: StreamId;
  readonly cols: number;
  readonly rows: number;
}

/** How a stream ended. */
export type StreamEnd =
  /** process exited (exec/attach) */
  | { readonly type: 'exit'; readonly code: number }
  /** failed: container not found, runtime error, … */
  | { readonly type: 'error'; readonly message: string }
  /** ended normally without an exit code (logs done, port closed) or cancelled by the peer */
  | { readonly type: 'closed' };

export interface StreamCloseBody {
  readonly kind: 'streamClose';
  readonly stream: StreamId;
  readonly end: StreamEnd;
}

// ── keepalive ────────────────────────────────────────────────────────────────────────────

/** Application-level keepalive (STYLE §6); the envelope ts is the sender's clock. */
export interface PingBody {
  readonly kind: 'ping';
}

/**
 * Answer to ping `ref`. `echo` = the ping's ts. The envelope ts is the answerer's clock, so
 * the pinger computes rtt = now − echo and skew ≈ ts − (echo + rtt / 2).
 */
export interface PongBody {
  readonly kind: 'pong';
  readonly ref: MessageId;
  readonly echo: number;
}

// ── the union ────────────────────────────────────────────────────────────────────────────

export type Body =
  | HelloBody
  | WelcomeBody
  | InventoryBody
  | SyncBody
  | AckBody
  | NackBody
  | StatusBody
  | EventBody
  | QueryBody
  | ReplyBody
  | StreamOpenBody
  | StreamDataBody
  | StreamWindowBody
  | StreamResizeBody
  | StreamCloseBody
  | PingBody
  | PongBody;

export type Kind = Body['kind'];

/** Every message on the wire. Distributes the header over each body so narrowing on `kind` works. */
export type Envelope<K extends Kind = Kind> = EnvelopeHeader & Extract<Body, { kind: K }>;

export type Hello = Envelope<'hello'>;
export type Welcome = Envelope<'welcome'>;
export type Inventory = Envelope<'inventory'>;
export type Sync = Envelope<'sync'>;
export type Ack = Envelope<'ack'>;
export type Nack = Envelope<'nack'>;
export type Status = Envelope<'status'>;
/** Named so it does not shadow the DOM/Node global `Event`. */
export type EventEnvelope = Envelope<'event'>;
export type Query = Envelope<'query'>;
export type Reply = Envelope<'reply'>;
export type StreamOpen = Envelope<'streamOpen'>;
export type StreamData = Envelope<'streamData'>;
export type StreamWindow = Envelope<'streamWindow'>;
export type StreamResize = Envelope<'streamResize'>;
export type StreamClose = Envelope<'streamClose'>;
export type Ping = Envelope<'ping'>;
export type Pong = Envelope<'pong'>;

// `satisfies Record<Kind, true>` makes a missing or an extra kind a compile error.
const KIND_SET = {
  hello: true,
  welcome: true,
  inventory: true,
  sync: true,
  ack: true,
  nack: true,
  status: true,
  event: true,
  query: true,
  reply: true,
  streamOpen: true,
  streamData: true,
  streamWindow: true,
  streamResize: true,
  streamClose: true,
  ping: true,
  pong: true,
} as const satisfies Record<Kind, true>;

/** All kinds, in a stable order (also the order of docs/protocol.md). */
export const KINDS = Object.keys(KIND_SET) as readonly Kind[];

/** Is `s` a known kind? */
export function isKind(s: string): s is Kind {
  return Object.hasOwn(KIND_SET, s);
}
