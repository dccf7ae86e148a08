import { z } from 'zod';
import { ConfigError } from '../common/index.js';
import { busConfigSchema } from '../edge/devices/index.js';
import { healthConfigSchema } from '../edge/health/index.js';
import { lazySchema, PROTOCOLS } from '../devices/index.js';
import { loadConfigFile } from './config-check.js';

/**
 * Reads a YAML file and validates it; every problem is listed with its path and line (ground
 * rule 4, issue 11) — the same check as `tether config validate` (config-check.ts).
 */
export function loadConfig<S extends z.ZodType>(path: string, schema: S, what: string): z.output<S> {
  return loadConfigFile(path, schema, what);
}

export function validateConfig<S extends z.ZodType>(raw: unknown, schema: S, what: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ConfigError(`invalid ${what}:\n  ${issues.join('\n  ')}`, issues);
  }
  return Object.freeze(r.data) as z.output<S>;
}

// The two configuration schemas are built when read and not kept (lazySchema, issue 12: the edge
// agent parses its configuration once at start; ~250 zod instances it would otherwise hold for
// its whole life, the cloud's schema among them). Same schemas, same messages.
const pemFile = () => z.string().min(1);

const TLS_FILES = ['certFile', 'keyFile', 'caFile'] as const;

const buildCloudConfigSchema = () =>
  z
    .object({
      /** Path of a kubeconfig; absent → in-cluster or the default loading rules. */
      kubeconfig: z.string().optional(),
      inCluster: z.boolean().default(false),
      hub: z
        .object({
          host: z.string().default('0.0.0.0'),
          port: z.number().int().min(0).max(65535).default(10350),
          /**
           * Host names and IP addresses edges dial to reach the hub: the SANs of its serving
           * certificate (issued by the cloud CA kept in Kubernetes); the first one is what
           * `tether token create` prints in join commands. Default: `host` when it is a specific
           * address, else 127.0.0.1, localhost and this machine's host name.
           */
          advertise: z.array(z.string().min(1)).min(1).optional(),
          /**
           * Operator-provided TLS instead of the cloud CA: all three files or none. With them the
           * hub serves these certificates and accepts no joins (its CA is not the one joins sign with).
           */
          certFile: pemFile().optional(),
          keyFile: pemFile().optional(),
          caFile: pemFile().optional(),
          keepaliveMs: z.number().int().min(50).default(15_000),
          windowSize: z.number().int().min(1).default(64),
          /**
           * Listening handles accepting on the hub's socket: Node accepts one connection per handle
           * and event-loop turn, so a busy cloud in a reconnect storm admits at most this many per
           * turn (docs/architecture.md, Admission).
           */
          acceptors: z.number().int().min(1).max(64).optional(),
          /** TLS handshakes in progress at most; the hub lowers its limit while its event loop lags. */
          maxPendingHandshakes: z.number().int().min(1).optional(),
          /** Connections held unread for a handshake slot; beyond it new ones are refused as busy. */
          maxQueuedConnections: z.number().int().min(0).optional(),
          /** The kernel's accept queue of the hub's socket (capped by net.core.somaxconn). */
          listenBacklog: z.number().int().min(1).optional(),
        })
        .strict()
        .superRefine((h, ctx) => {
          const given = TLS_FILES.filter((k) => h[k] !== undefined);
          if (given.length > 0 && given.length < TLS_FILES.length)
            ctx.addIssue({
              code: 'custom',
              message: `certFile, keyFile and caFile go together: ${given.join(', ')} given without ${TLS_FILES.filter((k) => h[k] === undefined).join(', ')}`,
            });
        })
        .prefault({}),
      /** Edge identity (issue 5): certificates the cloud CA issues at join and rotation. */
      bootstrap: z
        .object({
          /** Validity of edge client certificates; edges rotate at 2/3 of it. */
          edgeCertValidMs: z
            .number()
            .int()
            .min(60_000)
            .default(30 * 24 * 3600_000),
          /** Failed join attempts per source address per minute before 429. */
          maxJoinFailuresPerMinute: z.number().int().min(1).default(10),
          /** How often the revocation list is re-read from Kubernetes. */
          revocationRefreshMs: z.number().int().min(100).default(5000),
        })
        .strict()
        .prefault({}),
      /** Device/DeviceModel sync (issue 9): needs the CRDs of deploy/crds installed. */
      devices: z
        .object({
          /** Off: Devices are not sent to edges, their status not written. Default true. */
          enabled: z.boolean().default(true),
          /** Device status writes to Kubernetes per Device per second; the latest value is always written. Default 1. */
          statusWritesPerSecond: z.number().positive().default(1),
        })
        .strict()
        .prefault({}),
      /** Node Leases renewed by the cloud while an edge's link is alive (docs/architecture.md, Heartbeats). */
      leases: z
        .object({
          /** Off: edges renew their Leases through the channel (an outbox write every 10 s each). Default true. */
          byCloud: z.boolean().default(true),
          /** Seconds between renewals of a connected node's Lease (kubelet: 10). */
          renewIntervalSeconds: z.number().min(0.1).max(3600).default(10),
          /** The Lease's spec.leaseDurationSeconds (kubelet: 40). */
          leaseDurationSeconds: z.number().int().min(1).default(40),
          /** Lease writes in flight at once, across all nodes. Default 64. */
          maxInFlight: z.number().int().min(1).max(1000).default(64),
          /** Renewal period while edges are being admitted (a reconnect storm); at most half the lease. Default 20. */
          busyRenewIntervalSeconds: z.number().min(0.1).max(3600).default(20),
        })
        .strict()
        .prefault({}),
      /** kubectl logs/exec/attach/port-forward into edge pods (issue 8, docs/streams.md). */
      streams: z
        .object({
          enabled: z.boolean().default(true),
          /** The kubelet endpoint the API server dials. Default 0.0.0.0:10353 (10350 hub, 10351 edge local API, 10352 metrics). */
          host: z.string().min(1).default('0.0.0.0'),
          port: z.number().int().min(0).max(65535).default(10353),
          /**
           * CA of the API server's kubelet client certificate (--kubelet-client-certificate; the
           * embedded one: <dataDir>/pki/ca.crt). Without it the endpoint is not started.
           */
          clientCAFile: pemFile().optional(),
          /** Written into edge Nodes' daemonEndpoints.kubeletEndpoint.Port. Default: `port`. */
          advertisePort: z.number().int().min(1).max(65535).optional(),
          /** `iptables`: redirect <edge address>:<advertisePort> to the endpoint, for the API server and pods (metrics-server) on this host. */
          redirect: z.enum(['none', 'iptables']).default('none'),
          /** Streams open at once per edge node; more are refused with 429. Default 64 (the edge's own limit). */
          maxPerNode: z.number().int().min(1).max(10_000).default(64),
        })
        .strict()
        .prefault({}),
      /** Prometheus metrics of the cloud core (`tether status` reads queue depths there). */
      metrics: z
        .object({
          /** Off: no metrics endpoint. Default true. */
          enabled: z.boolean().default(true),
          /** Default 127.0.0.1. */
          host: z.string().min(1).default('127.0.0.1'),
          /** Serves GET /metrics. Default 10352. */
          port: z.number().int().min(0).max(65535).default(10352),
        })
        .strict()
        .prefault({}),
      logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    })
    .strict();
export const CloudConfigSchema = lazySchema(buildCloudConfigSchema);
export type CloudConfig = z.output<typeof CloudConfigSchema>;

/**
 * The edge configuration (`tether edge run --config`). Every field has its default here; the
 * defaults are those of a real host (DESIGN §8), tests override paths and timings.
 */
const buildEdgeConfigSchema = () =>
  z
    .object({
      /** The Node's name; must match the CN of the client certificate. Required. */
      nodeName: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a DNS-1123 subdomain'),
      /** Store, health record, local API token. Default /var/lib/tether/edge. */
      dataDir: z.string().min(1).default('/var/lib/tether/edge'),
      /** The cloud hub and this node's credentials (all required). */
      cloud: z
        .object({
          url: z.string().regex(/^wss:\/\//, 'must be a wss:// URL'),
          certFile: pemFile(),
          keyFile: pemFile(),
          caFile: pemFile(),
        })
        .strict(),
      /** Root for hardware discovery ('/' on a real host; a fixture tree in tests). Default '/'. */
      hardwareRoot: z.string().default('/'),
      node: z
        .object({
          /** Lease renewal while connected. Default 10000 ms (kubelet). */
          leaseRenewMs: z.number().int().min(100).default(10_000),
          /** How often node status is recomputed; written on change. Default 10000 ms. */
          statusCheckMs: z.number().int().min(100).default(10_000),
          /** Extra Node labels. Default none. */
          labels: z.record(z.string(), z.string()).default({}),
        })
        .strict()
        .prefault({}),
      /** The kubelet part (issue 7): pods through CRI. */
      pods: z
        .object({
          /** Off: a device-only gateway that runs no pods; Ready then does not depend on a runtime. Default true. */
          enabled: z.boolean().default(true),
          /** containerd's CRI socket. Default /run/containerd/containerd.sock. */
          criSocket: z.string().min(1).default('/run/containerd/containerd.sock'),
          /** Pod volumes: <rootDir>/<uid>/volumes/… Default /var/lib/tether/pods. */
          rootDir: z.string().min(1).default('/var/lib/tether/pods'),
          /** Container logs (CRI log directory per pod). Default /var/log/pods. */
          podLogsRoot: z.string().min(1).default('/var/log/pods'),
          /** Pod networking through containerd's CNI; off: pods share the host network. Default true. */
          cni: z.boolean().default(true),
          /** Level-triggered resync of every pod. Default 2000 ms. */
          reconcileIntervalMs: z.number().int().positive().default(2_000),
          /** First container restart back-off, doubling to backoffMaxMs. Default 10000 ms (kubelet). */
          backoffInitialMs: z.number().int().positive().default(10_000),
          /** Default 300000 ms (kubelet). */
          backoffMaxMs: z.number().int().positive().default(300_000),
          /** Parent cgroup of pod cgroups (kubelet's "kubepods"). Default /kubepods. */
          cgroupRoot: z.string().min(1).default('/kubepods'),
          /** Labels put on every sandbox and container (lets tests and operators scope cleanup). Default none. */
          extraLabels: z.record(z.string(), z.string()).default({}),
        })
        .strict()
        .prefault({}),
      /** The device manager (issue 9) and its MQTT event bus. */
      devices: z
        .object({
          /** Off: no bus, no device twins on this node. Default true. */
          enabled: z.boolean().default(true),
          /** Embedded broker on 127.0.0.1:1883 by default, or `{mode: external, url}`. */
          bus: busConfigSchema.default({ mode: 'embedded', host: '127.0.0.1', port: 1883 }),
          /** Protocols served by `tether mapper` processes on the bus; the built-in manager leaves them alone. Default none. */
          externalProtocols: z.array(z.enum(PROTOCOLS)).default([]),
        })
        .strict()
        .prefault({}),
      /** Health judgement (issue 10): units, thresholds, windows, rule; see docs/health.md. Defaults per unit. */
      health: healthConfigSchema.omit({ dataDir: true }).prefault({}),
      /** Local endpoint: `tether edge health` (issue 10) and the metaserver, a local Kubernetes read API (issue 6). */
      api: z
        .object({
          /** Off: no local endpoint. Default true. */
          enabled: z.boolean().default(true),
          /** Loopback by default: it is for the node's operator. Default 127.0.0.1. */
          host: z.string().min(1).default('127.0.0.1'),
          /** 0 = any free port (written to <dataDir>/api.json). Default 10351. */
          port: z.number().int().min(0).max(65535).default(10351),
          /**
           * Serve the metaserver on the same listener: a read-only Kubernetes API (get, list, watch)
           * over the node's store, with <dataDir>/metaserver.kubeconfig for kubectl. Default true.
           */
          metaserver: z.boolean().default(true),
        })
        .strict()
        .prefault({}),
      /** trace, debug, info, warn or error. Default info. */
      logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    })
    .strict();
export const EdgeConfigSchema = lazySchema(buildEdgeConfigSchema);
export type EdgeConfig = z.output<typeof EdgeConfigSchema>;
