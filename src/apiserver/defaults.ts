/**
 * Defaulting of the built-in types (k8s.io/kubernetes/pkg/apis/{core,apps}/v1/defaults.go)
 * — the subset that kubectl output and our controllers rely on.
 */
import { isObject } from './meta.js';
import type { JsonObject } from './storage/types.js';

function setDefault(o: JsonObject, k: string, v: unknown): void {
  if (o[k] === undefined || o[k] === null) o[k] = v;
}

function obj(o: JsonObject, k: string): JsonObject {
  const v = o[k];
  if (isObject(v)) return v;
  const fresh: JsonObject = {};
  o[k] = fresh;
  return fresh;
}

function each(v: unknown, fn: (o: JsonObject) => void): void {
  if (Array.isArray(v)) for (const x of v) if (isObject(x)) fn(x);
}

function defaultProbe(p: unknown): void {
  if (!isObject(p)) return;
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  if (isObject(p['httpGet'])) setDefault(p['httpGet'], 'scheme', 'HTTP');
}

export function defaultContainer(c: JsonObject): void {
  const image = typeof c['image'] === 'string' ? c['image'] : '';
  // SetDefaults_Container: Always for :latest or untagged images, else IfNotPresent.
  const afterSlash = image.slice(image.lastIndexOf('/') + 1);
  const tagged = !image.includes('@') && afterSlash.includes(':');
  const latest = !image.includes('@') && (!tagged || afterSlash.endsWith(':latest'));
  setDefault(c, 'imagePullPolicy', latest ? 'Always' : 'IfNotPresent');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  each(c['ports'], (p) => {
    setDefault(p, 'protocol', 'TCP');
  });
  each(c['env'], (e) => {
    const vf = e['valueFrom'];
    if (isObject(vf) && isObject(vf['fieldRef'])) setDefault(vf['fieldRef'], 'apiVersion', 'v1');
  });
  defaultProbe(c['livenessProbe']);
  defaultProbe(c['readinessProbe']);
  defaultProbe(c['startupProbe']);
}

export function defaultPodSpec(spec: JsonObject): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  each(spec['containers'], defaultContainer);
  each(spec['initContainers'], defaultContainer);
  each(spec['ephemeralContainers'], defaultContainer);
  each(spec['volumes'], (v) => {
    if (isObject(v['configMap'])) setDefault(v['configMap'], 'defaultMode', 420);
    if (isObject(v['secret'])) setDefault(v['secret'], 'defaultMode', 420);
    if (isObject(v['hostPath'])) setDefault(v['hostPath'], 'type', '');
    const hasSource = Object.keys(v).some((k) => k !== 'name');
    if (!hasSource) v['emptyDir'] = {};
  });
}

/**
 * Convert_v1_PodStatus_To_core_PodStatus: podIP fills an empty podIPs (the dual-stack list
 * clients read), on every pod write including status writes. (hostIPs is not filled: the
 * kubelet writes it; upstream 1.34 leaves it unset on a status patch with only hostIP.)
 */
export function syncPodIPs(pod: JsonObject): void {
  const status = pod['status'];
  if (!isObject(status)) return;
  const ip = status['podIP'];
  const list = status['podIPs'];
  if (typeof ip === 'string' && ip !== '' && (!Array.isArray(list) || list.length === 0))
    status['podIPs'] = [{ ip }];
}

function defaultPod(pod: JsonObject): void {
  syncPodIPs(pod);
  const spec = obj(pod, 'spec');
  defaultPodSpec(spec);
  setDefault(spec, 'enableServiceLinks', true);
  setDefault(spec, 'priority', 0);
  // ServiceAccount admission.
  setDefault(spec, 'serviceAccountName', 'default');
  setDefault(spec, 'serviceAccount', spec['serviceAccountName']);
  // DefaultTolerationSeconds admission: 300 s for not-ready and unreachable nodes.
  const tols = Array.isArray(spec['tolerations']) ? (spec['tolerations'] as JsonObject[]) : [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (
      !tols.some(
        (t) => isObject(t) && t['key'] === key && (t['effect'] === 'NoExecute' || t['effect'] === undefined),
      )
    )
      tols.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec['tolerations'] = tols;
}

function defaultTemplate(spec: JsonObject): void {
  const tpl = spec['template'];
  if (isObject(tpl)) {
    if (isObject(tpl['metadata'])) delete tpl['metadata']['creationTimestamp'];
    defaultPodSpec(obj(tpl, 'spec'));
  }
}

/** Defaults applied on create and on every update (as the decoder does upstream). */
/** Map fields of the built-in types that Go's omitempty drops when empty (never written as {}). */
function dropEmptyMaps(o: JsonObject, resource: string): void {
  const meta = o['metadata'];
  const empty = (v: unknown): boolean => isObject(v) && Object.keys(v).length === 0;
  if (isObject(meta))
    for (const k of ['labels', 'annotations']) if (empty(meta[k])) Reflect.deleteProperty(meta, k);
  if (resource === 'configmaps' || resource === 'secrets')
    for (const k of ['data', 'binaryData']) if (empty(o[k])) Reflect.deleteProperty(o, k);
}

export function applyDefaults(group: string, resource: string, o: JsonObject): void {
  applyTypeDefaults(group, resource, o);
  if (group === '') dropEmptyMaps(o, resource);
}

function applyTypeDefaults(group: string, resource: string, o: JsonObject): void {
  switch (`${group}/${resource}`) {
    case '/pods':
      defaultPod(o);
      return;
    case 'apps/deployments': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'replicas', 1);
      const strat = obj(spec, 'strategy');
      setDefault(strat, 'type', 'RollingUpdate');
      if (strat['type'] === 'RollingUpdate') {
        const ru = obj(strat, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', '25%');
        setDefault(ru, 'maxSurge', '25%');
      }
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      defaultTemplate(spec);
      return;
    }
    case '/endpoints':
      each(o['subsets'], (ss) => {
        each(ss['ports'], (p) => {
          setDefault(p, 'protocol', 'TCP');
        });
      });
      return;
    case 'apiextensions.k8s.io/customresourcedefinitions': {
      // SetDefaults_CustomResourceDefinitionSpec
      const spec = obj(o, 'spec');
      const names = obj(spec, 'names');
      if (typeof names['kind'] === 'string') {
        setDefault(names, 'singular', names['kind'].toLowerCase());
        if (names['kind'] !== '') setDefault(names, 'listKind', `${names['kind']}List`);
      }
      setDefault(spec, 'conversion', { strategy: 'None' });
      return;
    }
    case 'apps/replicasets': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'replicas', 1);
      defaultTemplate(spec);
      return;
    }
    case 'apps/daemonsets': {
      const spec = obj(o, 'spec');
      const us = obj(spec, 'updateStrategy');
      setDefault(us, 'type', 'RollingUpdate');
      if (us['type'] === 'RollingUpdate') {
        const ru = obj(us, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', 1);
        setDefault(ru, 'maxSurge', 0);
      }
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultTemplate(spec);
      return;
    }
    case '/services': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      setDefault(spec, 'internalTrafficPolicy', 'Cluster');
      each(spec['ports'], (p) => {
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p['port']);
      });
      if (spec['type'] === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
      defaultServiceStatus(o);
      return;
    }
    case '/secrets': {
      setDefault(o, 'type', 'Opaque');
      // Convert_v1_Secret_To_core_Secret: stringData is write-only; its entries overwrite
      // data's (as bytes, so base64 here) and it is never stored or returned.
      const sd = o['stringData'];
      if (isObject(sd)) {
        const data = obj(o, 'data');
        for (const [k, v] of Object.entries(sd))
          if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
      }
      delete o['stringData'];
      return;
    }
    case '/namespaces': {
      const meta = obj(o, 'metadata');
      // NamespaceDefaultLabelName (1.21+): every namespace carries its own name as a label.
      if (typeof meta['name'] === 'string') {
        const labels = obj(meta, 'labels');
        labels['kubernetes.io/metadata.name'] = meta['name'];
      }
      return;
    }
    default:
      return;
  }
}

/** SetDefaults_LoadBalancerIngress: an ingress with an ip has ipMode VIP (status writes too). */
export function defaultServiceStatus(svc: JsonObject): void {
  const status = svc['status'];
  if (!isObject(status) || !isObject(status['loadBalancer'])) return;
  each(status['loadBalancer']['ingress'], (ing) => {
    if (typeof ing['ip'] === 'string' && ing['ip'] !== '') setDefault(ing, 'ipMode', 'VIP');
  });
}

/** QoS class of a pod (pkg/apis/core/helper/qos). */
export function qosClass(spec: JsonObject): string {
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
  const containers = [...list(spec['containers']), ...list(spec['initContainers'])].filter(isObject);
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const res = isObject(c['resources']) ? c['resources'] : {};
    const req = isObject(res['requests']) ? res['requests'] : {};
    const lim = isObject(res['limits']) ? res['limits'] : {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const k of ['cpu', 'memory']) {
      if (lim[k] === undefined) guaranteed = false;
      else if (req[k] !== undefined && JSON.stringify(req[k]) !== JSON.stringify(lim[k])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
