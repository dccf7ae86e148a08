/** The API server's configuration (schema first; the type is derived, STYLE §12). */
import { z } from 'zod';

export const TokenSchema = z.object({
  token: z.string().min(16),
  user: z.string().min(1),
  groups: z.array(z.string()).default([]),
});

export const ApiServerConfigSchema = z
  .object({
    /** Where the database, PKI and kubeconfig live. */
    dataDir: z.string().min(1),
    host: z.string().default('127.0.0.1'),
    /** 0 = an ephemeral port (tests). */
    port: z.number().int().min(0).max(65535).default(6443),
    /** HTTPS with the generated CA; plain HTTP only for special set-ups. */
    tls: z.boolean().default(true),
    /** Extra DNS names / IPs for the serving certificate. */
    extraSans: z.array(z.string()).default([]),
    /** Static bearer tokens, in addition to the tokens file. */
    tokens: z.array(TokenSchema).default([]),
    /** upstream --token-auth-file format; default <dataDir>/tokens.csv. */
    tokensFile: z.string().optional(),
    /** Admin kubeconfig path; default <dataDir>/admin.kubeconfig. */
    kubeconfigPath: z.string().optional(),
    /** The server URL written into kubeconfigs (default: https://<host>:<port>). */
    advertiseUrl: z.url().optional(),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(3 * 1024 * 1024),
    watch: z
      .object({
        bookmarkIntervalMs: z.number().int().positive().default(60_000),
        maxBuffered: z.number().int().positive().default(1000),
        minRequestTimeoutSeconds: z.number().int().positive().default(1800),
      })
      .prefault({}),
    compaction: z
      .object({
        intervalMs: z
          .number()
          .int()
          .positive()
          .default(5 * 60_000),
        keepRevisions: z.number().int().nonnegative().optional(),
        keepMs: z.number().int().nonnegative().optional(),
      })
      .prefault({}),
    /**
     * Send every kubelet connection (pods/log, exec, attach, portforward) to this address
     * instead of the node's (issue 8's shorter path: the cloud core's kubelet endpoint).
     */
    kubeletProxy: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).optional(),
    storage: z
      .object({
        synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
      })
      .prefault({}),
    serviceAccounts: z
      .object({
        /**
         * Keep a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap in every namespace
         * (upstream: kube-controller-manager's serviceaccount and root-ca-cert-publisher
         * controllers). Off only to compare the bare server with upstream's run without controllers.
         */
        perNamespaceObjects: z.boolean().default(true),
      })
      .prefault({}),
  })
  .strict();

export type ApiServerConfigInput = z.input<typeof ApiServerConfigSchema>;
export type ApiServerConfig = z.output<typeof ApiServerConfigSchema>;
