import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../common/index.js';

/** Reads a YAML file and validates it; every problem is listed with its path (ground rule 4). */
export function loadConfig<S extends z.ZodType>(path: string, schema: S, what: string): z.output<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the ${what} configuration file ${path}: ${(e as Error).message}`, [], {
      cause: e,
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    throw new ConfigError(`${path} is not valid YAML: ${(e as Error).message}`, [], { cause: e });
  }
  return validateConfig(raw, schema, `${what} configuration ${path}`);
}

export function validateConfig<S extends z.ZodType>(raw: unknown, schema: S, what: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ConfigError(`invalid ${what}:\n  ${issues.join('\n  ')}`, issues);
  }
  return Object.freeze(r.data) as z.output<S>;
}

const pemFile = z.string().min(1);

export const CloudConfigSchema = z
  .object({
    /** Path of a kubeconfig; absent → in-cluster or the default loading rules. */
    kubeconfig: z.string().optional(),
    inCluster: z.boolean().default(false),
    hub: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(0).max(65535).default(10350),
        certFile: pemFile,
        keyFile: pemFile,
        caFile: pemFile,
        keepaliveMs: z.number().int().min(50).default(15_000),
        windowSize: z.number().int().min(1).default(64),
      })
      .strict(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  })
  .strict();
export type CloudConfig = z.output<typeof CloudConfigSchema>;

export const EdgeConfigSchema = z
  .object({
    nodeName: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a DNS-1123 subdomain'),
    dataDir: z.string().min(1).default('/var/lib/tether/edge'),
    cloud: z
      .object({
        url: z.string().regex(/^wss:\/\//, 'must be a wss:// URL'),
        certFile: pemFile,
        keyFile: pemFile,
        caFile: pemFile,
      })
      .strict(),
    /** Root for hardware discovery ('/' on a real host; a fixture tree in tests). */
    hardwareRoot: z.string().default('/'),
    node: z
      .object({
        leaseRenewMs: z.number().int().min(100).default(10_000),
        statusCheckMs: z.number().int().min(100).default(10_000),
        labels: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .prefault({}),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  })
  .strict();
export type EdgeConfig = z.output<typeof EdgeConfigSchema>;
