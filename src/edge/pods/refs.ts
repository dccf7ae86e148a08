import type { EnvVar, Pod, PodEnvVar, PullAuth } from '../cri/index.js';
import type { EdgeStore } from '../store/index.js';
import { PodSyncError } from './errors.js';

/**
 * Reading the ConfigMaps and Secrets a pod references from the edge store (the cloud sends a
 * node exactly those, DESIGN §2), as kubelet's configmap/secret managers do from the API.
 */

interface DataObject {
  type?: string;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export type RefKind = 'ConfigMap' | 'Secret';

export class Refs {
  constructor(private readonly store: EdgeStore) {}

  private object(kind: RefKind, namespace: string, name: string): DataObject | undefined {
    const o = this.store.get({ group: '', version: 'v1', kind, namespace, name });
    return o?.object;
  }

  /** All keys of a ConfigMap (data + binaryData) or a Secret (data, base64-decoded) as bytes. */
  data(kind: RefKind, namespace: string, name: string): Map<string, Buffer> | undefined {
    const o = this.object(kind, namespace, name);
    if (o === undefined) return undefined;
    const out = new Map<string, Buffer>();
    if (kind === 'ConfigMap') {
      for (const [k, v] of Object.entries(o.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
      for (const [k, v] of Object.entries(o.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
    } else {
      for (const [k, v] of Object.entries(o.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
    }
    return out;
  }

  /**
   * Values of configMapKeyRef/secretKeyRef env vars, resolved up front so a missing
   * non-optional reference fails the container start (kubelet CreateContainerConfigError).
   */
  resolveEnv(pod: Pod, env: readonly PodEnvVar[]): Map<string, string | Uint8Array> {
    const ns = pod.metadata.namespace ?? 'default';
    const out = new Map<string, string | Uint8Array>();
    for (const e of env) {
      const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
      if (ref === undefined) continue;
      const kind: RefKind = e.valueFrom?.configMapKeyRef === undefined ? 'Secret' : 'ConfigMap';
      const data = this.data(kind, ns, ref.name ?? '');
      const v = data?.get(ref.key);
      if (v === undefined) {
        if (ref.optional === true) continue;
        throw new PodSyncError(
          'CONFIG_REF_MISSING',
          data === undefined
            ? `${kind.toLowerCase()} "${ref.name ?? ''}" not found`
            : `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name ?? ''}`,
        );
      }
      out.set(e.name, kind === 'ConfigMap' ? v.toString('utf8') : new Uint8Array(v));
    }
    return out;
  }

  /** envFrom sources in order (later wins), with their prefixes. */
  envFrom(pod: Pod, c: Pod['spec']['containers'][number]): EnvVar[] {
    const ns = pod.metadata.namespace ?? 'default';
    const out: EnvVar[] = [];
    for (const src of c.envFrom ?? []) {
      const ref = src.configMapRef ?? src.secretRef;
      if (ref === undefined) continue;
      const kind: RefKind = src.configMapRef === undefined ? 'Secret' : 'ConfigMap';
      const data = this.data(kind, ns, ref.name ?? '');
      if (data === undefined) {
        if (ref.optional === true) continue;
        throw new PodSyncError('CONFIG_REF_MISSING', `${kind.toLowerCase()} "${ref.name ?? ''}" not found`);
      }
      for (const [k, v] of data) {
        out.push({
          key: `${src.prefix ?? ''}${k}`,
          value: kind === 'ConfigMap' ? v.toString('utf8') : new Uint8Array(v),
        });
      }
    }
    return out;
  }

  /**
   * Credentials for `image` from the pod's imagePullSecrets of type kubernetes.io/dockerconfigjson
   * (or the legacy dockercfg), matched by registry host like kubelet's credentialprovider keyring.
   */
  pullAuths(pod: Pod, image: string): PullAuth[] {
    const ns = pod.metadata.namespace ?? 'default';
    const registry = registryOf(image);
    const out: PullAuth[] = [];
    for (const { name } of pod.spec.imagePullSecrets ?? []) {
      const o = this.object('Secret', ns, name);
      if (o === undefined) continue;
      let auths: Record<string, { username?: string; password?: string; auth?: string }> | undefined;
      try {
        if (o.type === 'kubernetes.io/dockerconfigjson' && o.data?.['.dockerconfigjson'] !== undefined) {
          const j = JSON.parse(Buffer.from(o.data['.dockerconfigjson'], 'base64').toString('utf8')) as {
            auths?: typeof auths;
          };
          auths = j.auths;
        } else if (o.type === 'kubernetes.io/dockercfg' && o.data?.['.dockercfg'] !== undefined) {
          auths = JSON.parse(Buffer.from(o.data['.dockercfg'], 'base64').toString('utf8')) as typeof auths;
        }
      } catch {
        continue; // a malformed pull secret is ignored, as kubelet does (it logs and goes on)
      }
      for (const [server, a] of Object.entries(auths ?? {})) {
        if (registryOf(`${server.replace(/^https?:\/\//, '').replace(/\/.*$/, '')}/x`) !== registry) continue;
        out.push({
          ...(a.username === undefined ? {} : { username: a.username }),
          ...(a.password === undefined ? {} : { password: a.password }),
          ...(a.auth === undefined ? {} : { auth: a.auth }),
          // No serverAddress: containerd 1.6 url.Parse()s it and drops the credentials unless its
          // host equals the pull host ("localhost:5001" parses with an empty host); we matched it.
        });
      }
    }
    return out;
  }
}

/** The registry host of an image reference (docker's ParseNormalizedNamed rules). */
export function registryOf(image: string): string {
  const first = image.split('/')[0] ?? '';
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    return first === 'index.docker.io' ? 'docker.io' : first;
  }
  return 'docker.io';
}

/** kubelet's default pull policy: Always for `:latest` or no tag, else IfNotPresent. */
export function pullPolicy(c: {
  image?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}): 'Always' | 'IfNotPresent' | 'Never' {
  if (c.imagePullPolicy !== undefined) return c.imagePullPolicy;
  const image = c.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.split('/').pop() ?? '';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}
