/**
 * Service accounts in the embedded API server, after upstream v1.34:
 * - the signing key pair (`pki/sa.key`, `pki/sa.pub`, RS256 as kubeadm) and issuer
 *   `https://kubernetes.default.svc.cluster.local`, whose value is also the API audience;
 * - TokenRequest (`POST …/serviceaccounts/{name}/token`, pkg/registry/core/serviceaccount/storage/token.go);
 * - authentication of the tokens it issues (pkg/serviceaccount/claims.go Validate);
 * - ServiceAccount admission on pod create (plugin/pkg/admission/serviceaccount);
 * - what kube-controller-manager's serviceaccount and root-ca-cert-publisher controllers keep
 *   in every namespace (`default` ServiceAccount, `kube-root-ca.crt` ConfigMap). They run here,
 *   in-process and right after the namespace is written, rather than as controllers: every
 *   client of the embedded server (tests included, which start it without controllers) can
 *   create pods in a namespace at once, where upstream races its controller for a moment.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import type { Counter } from 'prom-client';
import { err, errorMessage, ok, type Logger, type Result } from '../common/index.js';
import type { UserInfo } from './auth.js';
import { decodeObject } from './body.js';
import { Causes, Errors, type ApiError, type StatusCause } from './errors.js';
import type { HandlerContext } from './handlers/context.js';
import { body } from './handlers/context.js';
import { generateName, isObject, metaOf, str } from './meta.js';
import { objectKey, type ResourceInfo, type ResourceTable } from './resources.js';
import { writeError, writeJson } from './respond.js';
import type { JsonObject } from './storage/types.js';
import { namespaceKey, type ObjectStore, type WriteOptions } from './store.js';

/** kubeadm's --service-account-issuer; upstream's --api-audiences default to the issuer. */
export const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const API_AUDIENCES: readonly string[] = [SA_ISSUER];
/** serviceaccount.WarnOnlyBoundTokenExpirationSeconds: what admission writes into the volume. */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
/** serviceaccount.ExpirationExtensionSeconds (--service-account-extend-token-expiration, on by default). */
export const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const DEFAULT_EXPIRATION_SECONDS = 3600;
/** A bound object deleted more than this long ago invalidates its tokens (claims.go). */
const DELETED_GRACE_MS = 60_000;

export const DEFAULT_SA = 'default';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const VOLUME_PREFIX = 'kube-api-access-';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** The identity of an authenticated service-account token (TokenReview's user). */
export interface ServiceAccountUser extends UserInfo {
  readonly uid: string;
  readonly extra: Readonly<Record<string, string[]>>;
}

/** Counters owned by the server (registered once, across restarts). */
export interface ServiceAccountMetrics {
  /** TokenRequests answered, by bound object kind ("" when unbound). */
  tokensIssued: Counter<'bound'>;
  /** Service-account bearer tokens presented, by result (valid, invalid). */
  tokenAuthentications: Counter<'result'>;
}

export interface SigningKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** base64url(sha256(PKIX DER of the public key)), as upstream's keyIDFromPublicKey. */
  kid: string;
}

/** `<dir>/sa.key` (PKCS#8) and `<dir>/sa.pub` (SPKI), created on first use (RSA 2048, as kubeadm). */
export function loadOrCreateSigningKeys(dir: string): SigningKeys {
  const keyFile = join(dir, 'sa.key');
  const pubFile = join(dir, 'sa.pub');
  let privateKey: KeyObject;
  if (existsSync(keyFile)) {
    privateKey = createPrivateKey(readFileSync(keyFile, 'utf8'));
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey;
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const publicKey = createPublicKey(privateKey);
  const spkiPem = publicKey.export({ type: 'spki', format: 'pem' });
  if (!existsSync(pubFile) || readFileSync(pubFile, 'utf8') !== spkiPem)
    writeFileSync(pubFile, spkiPem, { mode: 0o644 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha256').update(der).digest('base64url');
  return { privateKey, publicKey, kid };
}

interface Ref {
  name: string;
  uid: string;
}

/** The `kubernetes.io` private claims (pkg/serviceaccount/claims.go privateClaims). */
interface PrivateClaims {
  namespace: string;
  node?: { name: string; uid?: string };
  pod?: Ref;
  secret?: Ref;
  serviceaccount: Ref;
  warnafter?: number;
}

function isRef(v: unknown): v is Ref {
  return isObject(v) && typeof v['name'] === 'string' && typeof v['uid'] === 'string';
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function uidOf(o: JsonObject): string {
  return str(metaOf(o)['uid']) ?? '';
}

function array(o: JsonObject, key: string): JsonObject[] {
  const v = o[key];
  if (Array.isArray(v)) return v.filter(isObject);
  const out: JsonObject[] = [];
  o[key] = out;
  return out;
}

export class ServiceAccounts {
  private readonly r: {
    sa: ResourceInfo;
    pods: ResourceInfo;
    secrets: ResourceInfo;
    nodes: ResourceInfo;
    configmaps: ResourceInfo;
  };

  constructor(
    private readonly store: ObjectStore,
    table: ResourceTable,
    private readonly keys: SigningKeys,
    /** The CA clients inside pods must trust (ca.crt of kube-root-ca.crt). */
    private readonly caPem: string,
    private readonly logger: Logger,
    private readonly metrics?: ServiceAccountMetrics,
  ) {
    const get = (resource: string): ResourceInfo => {
      const r = table.get('', 'v1', resource);
      if (r === undefined) throw new Error(`built-in resource ${resource} missing`);
      return r;
    };
    this.r = {
      sa: get('serviceaccounts'),
      pods: get('pods'),
      secrets: get('secrets'),
      nodes: get('nodes'),
      configmaps: get('configmaps'),
    };
  }

  private live(r: ResourceInfo, ns: string | undefined, name: string): JsonObject | undefined {
    return this.store.storage.get(objectKey(r, ns, name))?.value;
  }

  // ------------------------------------------------------------ TokenRequest

  /** POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token. */
  async handleTokenRequest(ctx: HandlerContext): Promise<void> {
    const decoded = await objectBody(ctx);
    if (!decoded.ok) {
      writeError(ctx.res, decoded.error);
      return;
    }
    const res = await this.tokenRequest(ctx.info.namespace, ctx.info.name, decoded.value);
    if (!res.ok) {
      writeError(ctx.res, res.error, ctx.warnings);
      return;
    }
    writeJson(ctx.res, 201, res.value, ctx.warnings);
  }

  /** The TokenRequest REST create (token.go), as a value. */
  async tokenRequest(ns: string, name: string, req: JsonObject): Promise<Result<JsonObject, ApiError>> {
    const apiVersion = str(req['apiVersion']) ?? '';
    const kind = str(req['kind']) ?? '';
    if (
      (kind !== '' && kind !== 'TokenRequest') ||
      (apiVersion !== '' && apiVersion !== 'authentication.k8s.io/v1')
    ) {
      const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
      return err(
        Errors.badRequest(
          `${kind} in version "${version ?? ''}" cannot be handled as a TokenRequest: converting (${version ?? ''}.${kind}) to (authentication.TokenRequest): unknown conversion`,
        ),
      );
    }
    const meta = isObject(req['metadata']) ? req['metadata'] : {};
    const reqName = str(meta['name']) ?? '';
    const reqNs = str(meta['namespace']) ?? '';
    if (reqName !== '' && reqName !== name)
      return err(
        Errors.invalid('TokenRequest', 'authentication.k8s.io', name, [
          Causes.invalidValue('metadata.name', reqName, 'must match the service account name if specified'),
        ]),
      );
    if (reqNs !== '' && reqNs !== ns)
      return err(
        Errors.invalid('TokenRequest', 'authentication.k8s.io', name, [
          Causes.invalidValue(
            'metadata.namespace',
            reqNs,
            'must match the service account namespace if specified',
          ),
        ]),
      );
    const sa = this.live(this.r.sa, ns, name);
    if (sa === undefined) return err(Errors.notFound('serviceaccounts', '', name));
    const spec = isObject(req['spec']) ? req['spec'] : {};
    const audiences = Array.isArray(spec['audiences'])
      ? spec['audiences'].filter((a): a is string => typeof a === 'string')
      : [];
    if (audiences.length === 0) audiences.push(...API_AUDIENCES);
    const expirationSeconds =
      typeof spec['expirationSeconds'] === 'number' ? spec['expirationSeconds'] : DEFAULT_EXPIRATION_SECONDS;
    const now = Date.now();
    const causes: StatusCause[] = [];
    if (expirationSeconds < MIN_EXPIRATION_SECONDS)
      causes.push(
        Causes.invalidValue(
          'spec.expirationSeconds',
          expirationSeconds,
          'may not specify a duration less than 10 minutes',
        ),
      );
    else if (expirationSeconds > MAX_EXPIRATION_SECONDS)
      causes.push(
        Causes.invalidValue(
          'spec.expirationSeconds',
          expirationSeconds,
          'may not specify a duration larger than 2^32 seconds',
        ),
      );
    if (causes.length > 0) return err(Errors.invalid('TokenRequest', 'authentication.k8s.io', '', causes));

    const claims: PrivateClaims = {
      namespace: ns,
      serviceaccount: { name, uid: uidOf(sa) },
    };
    let boundRef: JsonObject | null = null;
    let boundToPod = false;
    if (isObject(spec['boundObjectRef'])) {
      const ref = spec['boundObjectRef'];
      const refKind = str(ref['kind']) ?? '';
      const refApi = str(ref['apiVersion']) ?? '';
      const refName = str(ref['name']) ?? '';
      const refUid = str(ref['uid']) ?? '';
      const group = refApi.includes('/') ? (refApi.split('/')[0] ?? '') : '';
      const version = refApi.includes('/') ? (refApi.split('/')[1] ?? '') : refApi;
      let uid: string;
      if (group === '' && refKind === 'Pod') {
        const pod = this.live(this.r.pods, ns, refName);
        if (pod === undefined) return err(Errors.notFound('pods', '', refName));
        const podSpec = isObject(pod['spec']) ? pod['spec'] : {};
        if ((str(podSpec['serviceAccountName']) ?? '') !== name)
          return err(
            Errors.badRequest(
              `cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`,
            ),
          );
        uid = uidOf(pod);
        claims.pod = { name: refName, uid };
        boundToPod = true;
        // ServiceAccountTokenPodNodeInfo: the pod's node, its uid only if the Node exists.
        const nodeName = str(podSpec['nodeName']) ?? '';
        if (nodeName !== '') {
          const node = this.live(this.r.nodes, undefined, nodeName);
          claims.node = node === undefined ? { name: nodeName } : { name: nodeName, uid: uidOf(node) };
        }
      } else if (group === '' && refKind === 'Secret') {
        const secret = this.live(this.r.secrets, ns, refName);
        if (secret === undefined) return err(Errors.notFound('secrets', '', refName));
        uid = uidOf(secret);
        claims.secret = { name: refName, uid };
      } else if (group === '' && refKind === 'Node') {
        const node = this.live(this.r.nodes, undefined, refName);
        if (node === undefined) return err(Errors.notFound('nodes', '', refName));
        uid = uidOf(node);
        claims.node = { name: refName, uid };
      } else {
        return err(
          Errors.badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${refKind}`),
        );
      }
      if (refUid !== '' && refUid !== uid)
        return err(
          Errors.conflict(
            refKind,
            '',
            refName,
            `the UID in the bound object reference (${refUid}) does not match the UID in record. The object might have been deleted and then recreated`,
          ),
        );
      // BoundObjectReference fields are omitempty.
      boundRef = { kind: refKind };
      if (refApi !== '') boundRef['apiVersion'] = refApi;
      if (refName !== '') boundRef['name'] = refName;
      if (refUid !== '') boundRef['uid'] = refUid;
    }
    // --service-account-extend-token-expiration: the admission-written 3607 s becomes a year,
    // with `warnafter` at the requested time, for pod-bound tokens meant for this server.
    let exp = expirationSeconds;
    if (
      boundToPod &&
      expirationSeconds === WARN_ONLY_EXPIRATION_SECONDS &&
      audiences.every((a) => API_AUDIENCES.includes(a))
    ) {
      claims.warnafter = Math.floor(now / 1000) + expirationSeconds;
      exp = Math.max(EXTENDED_EXPIRATION_SECONDS, expirationSeconds);
    }
    const token = await this.sign(ns, name, claims, audiences, now, exp);
    this.metrics?.tokensIssued.inc({ bound: str(boundRef?.['kind']) ?? '' });
    return ok({
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, uid: uidOf(sa), creationTimestamp: rfc3339(now) },
      spec: { audiences, expirationSeconds, boundObjectRef: boundRef },
      status: { token, expirationTimestamp: rfc3339(now + expirationSeconds * 1000) },
    });
  }

  private sign(
    ns: string,
    name: string,
    claims: PrivateClaims,
    audiences: readonly string[],
    nowMs: number,
    expSeconds: number,
  ): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    // Upstream's claim order (go-jose marshals the merged claims as a sorted map).
    const payload = {
      aud: [...audiences],
      exp: iat + expSeconds,
      iat,
      iss: SA_ISSUER,
      jti: randomUUID(),
      'kubernetes.io': claims,
      nbf: iat,
      sub: `system:serviceaccount:${ns}:${name}`,
    };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: this.keys.kid })
      .sign(this.keys.privateKey);
  }

  // ------------------------------------------------------------ authentication

  /**
   * A bearer token this server issued: the service account's identity, `null` when it is one of
   * ours but invalid (expired, bad signature, wrong audience, bound object gone), `undefined`
   * when it is not a service-account token of this issuer at all.
   */
  async authenticate(
    token: string,
    audiences: readonly string[] = API_AUDIENCES,
  ): Promise<ServiceAccountUser | null | undefined> {
    const user = await this.verify(token, audiences);
    if (user !== undefined)
      this.metrics?.tokenAuthentications.inc({ result: user === null ? 'invalid' : 'valid' });
    return user;
  }

  private async verify(
    token: string,
    audiences: readonly string[],
  ): Promise<ServiceAccountUser | null | undefined> {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return undefined;
    }
    if (iss !== SA_ISSUER) return undefined;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys.publicKey, {
        issuer: SA_ISSUER,
        audience: [...audiences],
        algorithms: ['RS256'],
      }));
    } catch (e) {
      this.logger.debug({ err: errorMessage(e) }, 'service account token rejected');
      return null;
    }
    const k8s = payload['kubernetes.io'];
    if (!isObject(k8s)) return null;
    const ns = str(k8s['namespace']) ?? '';
    const saRef = k8s['serviceaccount'];
    if (ns === '' || !isRef(saRef)) return null;
    const sub = `system:serviceaccount:${ns}:${saRef.name}`;
    if (payload['sub'] !== sub) return null;
    const now = Date.now();
    const alive = (o: JsonObject | undefined, uid: string): boolean => {
      if (o === undefined || uidOf(o) !== uid) return false;
      const del = str(metaOf(o)['deletionTimestamp']);
      return del === undefined || Date.parse(del) >= now - DELETED_GRACE_MS;
    };
    // claims.go Validate: the service account and every bound object still exist, same uid.
    if (!alive(this.live(this.r.sa, ns, saRef.name), saRef.uid)) return null;
    const extra: Record<string, string[]> = {};
    const pod = k8s['pod'];
    const secret = k8s['secret'];
    const node = k8s['node'];
    if (pod !== undefined) {
      if (!isRef(pod) || !alive(this.live(this.r.pods, ns, pod.name), pod.uid)) return null;
      extra['authentication.kubernetes.io/pod-name'] = [pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [pod.uid];
    }
    if (
      secret !== undefined &&
      (!isRef(secret) || !alive(this.live(this.r.secrets, ns, secret.name), secret.uid))
    )
      return null;
    if (isObject(node) && typeof node['name'] === 'string') {
      // Only a token bound to the node itself is invalidated by the node's removal.
      if (pod === undefined && secret === undefined) {
        if (
          typeof node['uid'] !== 'string' ||
          !alive(this.live(this.r.nodes, undefined, node['name']), node['uid'])
        )
          return null;
      }
      extra['authentication.kubernetes.io/node-name'] = [node['name']];
      if (typeof node['uid'] === 'string') extra['authentication.kubernetes.io/node-uid'] = [node['uid']];
    }
    if (typeof payload['jti'] === 'string')
      extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload['jti']}`];
    return {
      name: sub,
      uid: saRef.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
      extra: Object.fromEntries(Object.entries(extra).sort(([a], [b]) => a.localeCompare(b))),
    };
  }

  /**
   * POST /apis/authentication.k8s.io/v1/tokenreviews: static tokens and this issuer's
   * service-account tokens (upstream's token authenticators), for the requested audiences.
   */
  async handleTokenReview(ctx: HandlerContext, staticToken: (t: string) => UserInfo | null): Promise<void> {
    const decoded = await objectBody(ctx);
    if (!decoded.ok) {
      writeError(ctx.res, decoded.error);
      return;
    }
    const review = decoded.value;
    const kind = str(review['kind']) ?? '';
    const apiVersion = str(review['apiVersion']) ?? '';
    if (
      (kind !== '' && kind !== 'TokenReview') ||
      (apiVersion !== '' && apiVersion !== 'authentication.k8s.io/v1')
    ) {
      writeError(
        ctx.res,
        Errors.badRequest(`${kind} in version "${apiVersion}" cannot be handled as a TokenReview`),
      );
      return;
    }
    const spec = isObject(review['spec']) ? review['spec'] : {};
    const token = str(spec['token']) ?? '';
    if (token === '') {
      writeError(
        ctx.res,
        Errors.invalid('TokenReview', 'authentication.k8s.io', '', [Causes.required('spec.token')]),
      );
      return;
    }
    const wanted = Array.isArray(spec['audiences'])
      ? spec['audiences'].filter((a): a is string => typeof a === 'string')
      : [];
    const audiences = wanted.length === 0 ? [...API_AUDIENCES] : wanted;
    // Static tokens are not audience-bound: valid for the server's own audiences only.
    const fromStatic = staticToken(token);
    const staticAud = audiences.filter((a) => API_AUDIENCES.includes(a));
    const sa = fromStatic !== null && staticAud.length > 0 ? null : await this.authenticate(token, audiences);
    let status: JsonObject;
    if (fromStatic !== null && staticAud.length > 0) {
      status = {
        authenticated: true,
        user: { username: fromStatic.name, groups: [...fromStatic.groups] },
        audiences: staticAud,
      };
    } else if (sa === null || sa === undefined) {
      status = { user: {}, error: 'invalid bearer token' };
    } else {
      const aud = decodeJwt(token).aud;
      const tokenAud = typeof aud === 'string' ? [aud] : (aud ?? []);
      status = {
        authenticated: true,
        user: { username: sa.name, uid: sa.uid, groups: [...sa.groups], extra: { ...sa.extra } },
        audiences: audiences.filter((a) => tokenAud.includes(a)),
      };
    }
    writeJson(ctx.res, 201, {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: {},
      spec: { token, ...(wanted.length === 0 ? {} : { audiences: wanted }) },
      status,
    });
  }

  // ------------------------------------------------------------ admission

  /**
   * ServiceAccount admission (Admit + Validate) of a pod create, after NamespaceLifecycle:
   * the service account must exist, and unless automounting is off (pod first, then the
   * service account) every container and init container mounts the projected token volume.
   * `name` is the request's name (generateName when the name is not yet generated).
   */
  admitPod(ns: string, name: string, pod: JsonObject): Result<void, ApiError> {
    const meta = metaOf(pod);
    const ann = isObject(meta['annotations']) ? meta['annotations'] : {};
    if (ann[MIRROR_POD_ANNOTATION] !== undefined) return ok(undefined);
    const spec = isObject(pod['spec']) ? pod['spec'] : {};
    let saName = str(spec['serviceAccountName']) ?? '';
    if (saName === '') saName = str(spec['serviceAccount']) ?? '';
    if (saName === '') saName = DEFAULT_SA;
    spec['serviceAccountName'] = saName;
    spec['serviceAccount'] = saName;
    const sa = this.live(this.r.sa, ns, saName);
    if (sa === undefined)
      return err(
        Errors.forbidden(
          'pods',
          '',
          name,
          `error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`,
        ),
      );
    const podAuto = spec['automountServiceAccountToken'];
    const saAuto = sa['automountServiceAccountToken'];
    const automount = typeof podAuto === 'boolean' ? podAuto : typeof saAuto === 'boolean' ? saAuto : true;
    if (automount) mountToken(spec);
    const pullSecrets = spec['imagePullSecrets'];
    const saPull = Array.isArray(sa['imagePullSecrets']) ? sa['imagePullSecrets'].filter(isObject) : [];
    if ((!Array.isArray(pullSecrets) || pullSecrets.length === 0) && saPull.length > 0)
      spec['imagePullSecrets'] = saPull.map((s) => ({ name: str(s['name']) ?? '' }));
    pod['spec'] = spec;
    return ok(undefined);
  }

  // ------------------------------------------------------------ per-namespace objects

  /** Store write hook: new namespaces get their objects; removed or altered ones come back. */
  onWrite(r: ResourceInfo, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: JsonObject): void {
    if (r.group !== '') return;
    const meta = metaOf(obj);
    const name = str(meta['name']) ?? '';
    const ns = str(meta['namespace']) ?? '';
    // Deferred: the hook runs inside the store's write, which must finish first.
    if (r.resource === 'namespaces' && type === 'ADDED')
      queueMicrotask(() => {
        this.ensure(name);
      });
    else if (r.resource === 'serviceaccounts' && type === 'DELETED' && name === DEFAULT_SA)
      queueMicrotask(() => {
        this.ensure(ns);
      });
    else if (r.resource === 'configmaps' && name === ROOT_CA_CONFIGMAP && type !== 'ADDED')
      queueMicrotask(() => {
        this.ensure(ns);
      });
  }

  /** Every namespace (start-up: data dirs from before this code, and the built-in namespaces). */
  ensureAll(): void {
    const list = this.store.storage.list('/registry/core/namespaces/_/');
    if (!list.ok) return;
    for (const so of list.value.items) this.ensure(str(metaOf(so.value)['name']) ?? '');
  }

  /** The `default` ServiceAccount and `kube-root-ca.crt` of one live namespace. */
  ensure(ns: string): void {
    if (ns === '') return;
    const nsObj = this.store.storage.get(namespaceKey(ns));
    if (nsObj === undefined || metaOf(nsObj.value)['deletionTimestamp'] !== undefined) return;
    const opts = (apiVersion: string): WriteOptions => ({
      dryRun: false,
      fieldValidation: 'Ignore',
      warnings: [],
      writer: { manager: 'kube-controller-manager', apiVersion },
    });
    const report = (what: string, res: Result<unknown, ApiError>): void => {
      if (!res.ok && res.error.reason !== 'AlreadyExists' && res.error.reason !== 'Forbidden')
        this.logger.warn({ namespace: ns, err: res.error.message }, `cannot write ${what}`);
    };
    if (this.live(this.r.sa, ns, DEFAULT_SA) === undefined)
      report(
        'the default ServiceAccount',
        this.store.create(
          this.r.sa,
          ns,
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SA } },
          opts('v1'),
        ),
      );
    const desired: JsonObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: ROOT_CA_CONFIGMAP,
        annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION },
      },
      data: { 'ca.crt': this.caPem },
    };
    const cm = this.store.storage.get(objectKey(this.r.configmaps, ns, ROOT_CA_CONFIGMAP));
    if (cm === undefined) {
      report('kube-root-ca.crt', this.store.create(this.r.configmaps, ns, desired, opts('v1')));
      return;
    }
    // root-ca-cert-publisher: the data and the description annotation are put back.
    const data = isObject(cm.value['data']) ? cm.value['data'] : {};
    const ann = metaOf(cm.value)['annotations'];
    const annOk = isObject(ann) && ann['kubernetes.io/description'] === ROOT_CA_DESCRIPTION;
    if (data['ca.crt'] === this.caPem && Object.keys(data).length === 1 && annOk) return;
    const current = metaOf(cm.value);
    const body: JsonObject = {
      ...desired,
      metadata: {
        ...current,
        annotations: {
          ...(isObject(current['annotations']) ? current['annotations'] : {}),
          'kubernetes.io/description': ROOT_CA_DESCRIPTION,
        },
      },
    };
    report(
      'kube-root-ca.crt',
      this.store.update(this.r.configmaps, ns, ROOT_CA_CONFIGMAP, body, opts('v1'), cm.modRevision),
    );
  }
}

/** mountServiceAccountToken + TokenVolumeSource of upstream's admission plugin. */
function mountToken(spec: JsonObject): void {
  const volumes = Array.isArray(spec['volumes']) ? spec['volumes'].filter(isObject) : [];
  const existing = volumes.find((v) => (str(v['name']) ?? '').startsWith(VOLUME_PREFIX));
  const volumeName = existing === undefined ? generateName(VOLUME_PREFIX) : (str(existing['name']) ?? '');
  let needed = false;
  for (const key of ['initContainers', 'containers']) {
    const containers = spec[key];
    if (!Array.isArray(containers)) continue;
    for (const c of containers) {
      if (!isObject(c)) continue;
      const mounts = array(c, 'volumeMounts');
      // An existing mount at the token path prevents the token mount.
      if (mounts.some((m) => m['mountPath'] === TOKEN_MOUNT_PATH)) continue;
      mounts.push({ name: volumeName, readOnly: true, mountPath: TOKEN_MOUNT_PATH });
      c['volumeMounts'] = mounts;
      needed = true;
    }
  }
  if (existing !== undefined || !needed) return;
  volumes.push({
    name: volumeName,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: WARN_ONLY_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  });
  spec['volumes'] = volumes;
}

/** The request body as one object (JSON or protobuf); an empty body is a 400, as upstream. */
async function objectBody(ctx: HandlerContext): Promise<Result<JsonObject, ApiError>> {
  const b = await body(ctx);
  if (!b.ok) return b;
  return b.value.data.length === 0
    ? err(Errors.badRequest('the body of the request was empty'))
    : decodeObject(b.value.data, b.value.type);
}
