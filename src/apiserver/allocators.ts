/**
 * Service IP and node port allocation (pkg/registry/core/service/ipallocator, portallocator),
 * reduced to a scan of the stored services: the service CIDR is 10.96.0.0/12 like kubeadm's
 * default, 10.96.0.1 is reserved for the `kubernetes` service, node ports are 30000–32767.
 */
import { Causes, type StatusCause } from './errors.js';
import { isObject, str } from './meta.js';
import type { JsonObject, Storage } from './storage/types.js';

const SERVICES_PREFIX = '/registry/core/services/';
const CIDR_BASE = (10 << 24) | (96 << 16);
const CIDR_SIZE = 1 << 20;
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

function ipToInt(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (m === null) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function usage(storage: Storage, exceptKey: string | undefined): { ips: Set<number>; ports: Set<number> } {
  const ips = new Set<number>();
  const ports = new Set<number>();
  const all = storage.list(SERVICES_PREFIX);
  if (!all.ok) return { ips, ports };
  for (const so of all.value.items) {
    if (so.key === exceptKey) continue;
    const spec = isObject(so.value['spec']) ? so.value['spec'] : {};
    const ip = ipToInt(str(spec['clusterIP']) ?? '');
    if (ip !== undefined) ips.add(ip);
    for (const p of Array.isArray(spec['ports']) ? spec['ports'] : [])
      if (isObject(p) && typeof p['nodePort'] === 'number') ports.add(p['nodePort']);
  }
  return { ips, ports };
}

/** Fills spec.clusterIP(s) and node ports of a new service; errors for taken or foreign values. */
export function allocateServiceAddresses(
  storage: Storage,
  svc: JsonObject,
  key: string | undefined,
): StatusCause[] {
  const spec = isObject(svc['spec']) ? svc['spec'] : {};
  svc['spec'] = spec;
  const type = str(spec['type']) ?? 'ClusterIP';
  if (type === 'ExternalName') return [];
  const { ips, ports } = usage(storage, key);
  const causes: StatusCause[] = [];
  const requested = str(spec['clusterIP']) ?? '';
  if (requested === 'None') {
    spec['clusterIPs'] = ['None'];
  } else if (requested !== '') {
    const n = ipToInt(requested);
    if (n === undefined || n < CIDR_BASE || n >= CIDR_BASE + CIDR_SIZE)
      causes.push(
        Causes.invalidValue(
          'spec.clusterIPs',
          [requested],
          `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is 10.96.0.0/12`,
        ),
      );
    else if (ips.has(n))
      causes.push(
        Causes.invalidValue(
          'spec.clusterIPs',
          [requested],
          `failed to allocate IP ${requested}: provided IP is already allocated`,
        ),
      );
    spec['clusterIPs'] = [requested];
  } else {
    let n = CIDR_BASE + 10;
    while (ips.has(n) && n < CIDR_BASE + CIDR_SIZE - 1) n++;
    spec['clusterIP'] = intToIp(n);
    spec['clusterIPs'] = [intToIp(n)];
  }
  spec['ipFamilies'] ??= ['IPv4'];
  spec['ipFamilyPolicy'] ??= 'SingleStack';
  if (type === 'NodePort' || type === 'LoadBalancer') {
    let next = NODE_PORT_MIN;
    for (const p of Array.isArray(spec['ports']) ? spec['ports'] : []) {
      if (!isObject(p)) continue;
      if (typeof p['nodePort'] === 'number') {
        if (ports.has(p['nodePort']))
          causes.push(
            Causes.invalidValue(
              'spec.ports[0].nodePort',
              p['nodePort'],
              'provided port is already allocated',
            ),
          );
        ports.add(p['nodePort']);
        continue;
      }
      while (ports.has(next) && next <= NODE_PORT_MAX) next++;
      p['nodePort'] = next;
      ports.add(next);
    }
    spec['externalTrafficPolicy'] ??= 'Cluster';
  }
  return causes;
}

/** clusterIP is immutable: an update that omits it keeps the allocated one. */
export function keepServiceAddresses(old: JsonObject, svc: JsonObject): StatusCause[] {
  const os = isObject(old['spec']) ? old['spec'] : {};
  const ns = isObject(svc['spec']) ? svc['spec'] : {};
  for (const k of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy'])
    if (ns[k] === undefined || ns[k] === '') ns[k] = os[k];
  if (ns['clusterIP'] !== os['clusterIP'] && os['clusterIP'] !== undefined)
    return [Causes.invalidValue('spec.clusterIPs[0]', ns['clusterIP'], 'may not change once set')];
  return [];
}
