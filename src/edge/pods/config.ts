import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';

/**
 * The edge kubelet's configuration (issue 7). Defaults are upstream kubelet's
 * (KubeletConfiguration v1beta1) wherever the two overlap; tests shorten the timings.
 */
const buildPodManagerConfigSchema = () =>
  z
    .object({
      /** This node: only pods with spec.nodeName equal to it are run. */
      nodeName: z.string().min(1),
      /** kubelet --root-dir/pods: volumes live in `<rootDir>/<uid>/volumes/<plugin>/<name>`. */
      rootDir: z.string().min(1).default('/var/lib/tether/pods'),
      /** kubelet's pod log root (CRI log directory per pod). */
      podLogsRoot: z.string().min(1).default('/var/log/pods'),
      /** Off: pods without hostNetwork run in the node's network namespace (edges without CNI). */
      cni: z.boolean().default(true),
      /** Level-triggered resync of every pod (kubelet's PLEG relist is 1 s, its resync 1 min). */
      reconcileIntervalMs: z.number().int().positive().default(2_000),
      /** Container restart back-off: 10 s doubling to 5 min (kubelet's CrashLoopBackOff). */
      backoffInitialMs: z.number().int().positive().default(10_000),
      backoffMaxMs: z
        .number()
        .int()
        .positive()
        .default(5 * 60_000),
      /** Image GC thresholds (kubelet imageGCHigh/LowThresholdPercent), checked every `imageGcIntervalMs`. */
      imageGcHighThresholdPercent: z.number().int().min(1).max(100).default(85),
      imageGcLowThresholdPercent: z.number().int().min(0).max(100).default(80),
      /** kubelet imageMinimumGCAge (2 min): an image seen more recently than this is never removed. */
      imageMinimumGcAgeMs: z.number().int().min(0).default(120_000),
      /** kubelet --pod-infra-container-image: kept by image GC; default: what the runtime reports. */
      sandboxImage: z.string().min(1).optional(),
      imageGcIntervalMs: z
        .number()
        .int()
        .positive()
        .default(5 * 60_000),
      /** How often disk emptyDirs are measured against their sizeLimit (kubelet housekeeping: 10 s). */
      evictionIntervalMs: z.number().int().positive().default(10_000),
      /** Root of pod cgroups (kubelet's "kubepods"). */
      cgroupRoot: z.string().min(1).default('/kubepods'),
      cgroupDriver: z.enum(['cgroupfs', 'systemd']).default('cgroupfs'),
      /** kubelet --cluster-dns / --cluster-domain / --resolv-conf. */
      clusterDns: z.array(z.string()).default([]),
      clusterDomain: z.string().default('cluster.local'),
      resolvConf: z.string().default('/etc/resolv.conf'),
      /** The node's IP for status.hostIP; default: the first non-internal IPv4 address. */
      hostIP: z.string().optional(),
      /** Extra labels put on every sandbox and container (tests scope cleanup with them). */
      extraLabels: z.record(z.string(), z.string()).default({}),
    })
    .strict()
    .refine((c) => c.imageGcLowThresholdPercent < c.imageGcHighThresholdPercent, {
      error: 'imageGcLowThresholdPercent must be below imageGcHighThresholdPercent',
    })
    .refine((c) => c.backoffInitialMs <= c.backoffMaxMs, {
      error: 'backoffInitialMs must not exceed backoffMaxMs',
    });
export const PodManagerConfigSchema = lazySchema(buildPodManagerConfigSchema);

export type PodManagerConfig = z.input<typeof PodManagerConfigSchema>;
export type ResolvedPodManagerConfig = Readonly<z.output<typeof PodManagerConfigSchema>>;
