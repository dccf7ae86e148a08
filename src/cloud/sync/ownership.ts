import { keyId, type NodeName, type ObjectKey, type ObjectKeyId } from '../../protocol/index.js';

/**
 * Which objects belong to which edge node (DESIGN §2: "a node receives only what belongs to
 * it"): the pods bound to it, exactly the ConfigMaps and Secrets those pods reference, its own
 * Node object, and the Devices bound to it. Maintained incrementally from pod changes so a
 * change touches only the nodes it concerns.
 */

/** The parts of a Pod this index reads. */
export interface PodLike {
  metadata?: { namespace?: string; name?: string };
  spec?: {
    nodeName?: string;
    volumes?: readonly VolumeLike[];
    containers?: readonly ContainerLike[];
    initContainers?: readonly ContainerLike[];
    ephemeralContainers?: readonly ContainerLike[];
    imagePullSecrets?: readonly { name?: string }[];
  };
}
interface VolumeLike {
  configMap?: { name?: string };
  secret?: { secretName?: string };
  projected?: { sources?: readonly { configMap?: { name?: string }; secret?: { name?: string } }[] };
}
interface ContainerLike {
  env?: readonly {
    valueFrom?: { configMapKeyRef?: { name?: string }; secretKeyRef?: { name?: string } };
  }[];
  envFrom?: readonly { configMapRef?: { name?: string }; secretRef?: { name?: string } }[];
}

export const configMapKey = (namespace: string, name: string): ObjectKey => ({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  namespace,
  name,
});
export const secretKey = (namespace: string, name: string): ObjectKey => ({
  group: '',
  version: 'v1',
  kind: 'Secret',
  namespace,
  name,
});
export const podKey = (namespace: string, name: string): ObjectKey => ({
  group: '',
  version: 'v1',
  kind: 'Pod',
  namespace,
  name,
});
export const nodeKey = (name: string): ObjectKey => ({ group: '', version: 'v1', kind: 'Node', name });

/** Every ConfigMap and Secret a pod references (volumes, env, envFrom, imagePullSecrets). */
export function referencedObjects(pod: PodLike): ObjectKey[] {
  const ns = pod.metadata?.namespace ?? 'default';
  const spec = pod.spec;
  if (spec === undefined) return [];
  const out = new Map<ObjectKeyId, ObjectKey>();
  const cm = (name: string | undefined): void => {
    if (name) out.set(keyId(configMapKey(ns, name)), configMapKey(ns, name));
  };
  const secret = (name: string | undefined): void => {
    if (name) out.set(keyId(secretKey(ns, name)), secretKey(ns, name));
  };
  for (const v of spec.volumes ?? []) {
    cm(v.configMap?.name);
    secret(v.secret?.secretName);
    for (const s of v.projected?.sources ?? []) {
      cm(s.configMap?.name);
      secret(s.secret?.name);
    }
  }
  for (const c of [
    ...(spec.containers ?? []),
    ...(spec.initContainers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ]) {
    for (const e of c.env ?? []) {
      cm(e.valueFrom?.configMapKeyRef?.name);
      secret(e.valueFrom?.secretKeyRef?.name);
    }
    for (const e of c.envFrom ?? []) {
      cm(e.configMapRef?.name);
      secret(e.secretRef?.name);
    }
  }
  for (const s of spec.imagePullSecrets ?? []) secret(s.name);
  return [...out.values()];
}

/** A (node, object) pair whose "belongs" answer may have changed. */
export interface Affected {
  readonly node: NodeName;
  readonly key: ObjectKey;
}

interface PodEntry {
  readonly node: NodeName;
  readonly refs: readonly ObjectKey[];
}

export class OwnershipIndex {
  private readonly pods = new Map<ObjectKeyId, PodEntry>();
  /** node → referenced object → number of that node's pods referencing it */
  private readonly refCounts = new Map<NodeName, Map<ObjectKeyId, number>>();
  /** object → nodes referencing it (reverse index for fan-out of ConfigMap/Secret changes) */
  private readonly referrers = new Map<ObjectKeyId, Set<NodeName>>();
  /** node → its pods */
  private readonly podsByNode = new Map<NodeName, Set<ObjectKeyId>>();
  /** every key this index refers to, to turn ids back into structured keys */
  private readonly keys = new Map<ObjectKeyId, ObjectKey>();

  /**
   * Records the latest state of a pod (undefined = deleted) and returns every (node, key) whose
   * membership or content may have changed: the pod itself on its old and new node, and any
   * ConfigMap/Secret that started or stopped being referenced on a node.
   */
  updatePod(key: ObjectKey, pod: PodLike | undefined): Affected[] {
    const id = keyId(key);
    const before = this.pods.get(id);
    const nodeName = pod?.spec?.nodeName;
    const after: PodEntry | undefined =
      pod !== undefined && nodeName
        ? { node: nodeName as NodeName, refs: referencedObjects(pod) }
        : undefined;
    const affected: Affected[] = [];
    if (before !== undefined) {
      if (after === undefined) this.keys.delete(id);
      this.pods.delete(id);
      this.podsByNode.get(before.node)?.delete(id);
      affected.push({ node: before.node, key });
      for (const r of before.refs) {
        if (this.decRef(before.node, r)) affected.push({ node: before.node, key: r });
      }
    }
    if (after !== undefined) {
      this.keys.set(id, key);
      for (const r of after.refs) this.keys.set(keyId(r), r);
      this.pods.set(id, after);
      let set = this.podsByNode.get(after.node);
      if (set === undefined) this.podsByNode.set(after.node, (set = new Set<ObjectKeyId>()));
      set.add(id);
      if (before?.node !== after.node) affected.push({ node: after.node, key });
      for (const r of after.refs) {
        if (this.incRef(after.node, r)) affected.push({ node: after.node, key: r });
      }
    }
    return affected;
  }

  /** Nodes that must hear about a change of this ConfigMap or Secret. */
  referrersOf(key: ObjectKey): readonly NodeName[] {
    return [...(this.referrers.get(keyId(key)) ?? [])];
  }

  /** Does the object belong to the node? (Pods, referenced ConfigMaps/Secrets, the Node itself.) */
  belongs(node: NodeName, key: ObjectKey): boolean {
    if (key.group !== '') return false; // other groups (devices) are decided by their own index
    switch (key.kind) {
      case 'Pod':
        return this.pods.get(keyId(key))?.node === node;
      case 'ConfigMap':
      case 'Secret':
        return (this.refCounts.get(node)?.get(keyId(key)) ?? 0) > 0;
      case 'Node':
        return key.name === node;
      default:
        return false;
    }
  }

  /** Everything that belongs to the node per this index (the desired inventory's keys). */
  keysOf(node: NodeName): ObjectKey[] {
    const ids = [...(this.podsByNode.get(node) ?? []), ...(this.refCounts.get(node)?.keys() ?? [])];
    return ids.flatMap((id) => {
      const k = this.keys.get(id);
      return k === undefined ? [] : [k];
    });
  }

  /** true when the reference count went 0 → 1 */
  private incRef(node: NodeName, key: ObjectKey): boolean {
    const id = keyId(key);
    let m = this.refCounts.get(node);
    if (m === undefined) this.refCounts.set(node, (m = new Map<ObjectKeyId, number>()));
    const n = (m.get(id) ?? 0) + 1;
    m.set(id, n);
    let r = this.referrers.get(id);
    if (r === undefined) this.referrers.set(id, (r = new Set<NodeName>()));
    r.add(node);
    return n === 1;
  }

  /** true when the reference count went 1 → 0 */
  private decRef(node: NodeName, key: ObjectKey): boolean {
    const id = keyId(key);
    const m = this.refCounts.get(node);
    const n = (m?.get(id) ?? 0) - 1;
    if (m === undefined || n < 0) return false;
    if (n > 0) {
      m.set(id, n);
      return false;
    }
    m.delete(id);
    if (m.size === 0) this.refCounts.delete(node);
    const r = this.referrers.get(id);
    r?.delete(node);
    if (r?.size === 0) {
      this.referrers.delete(id);
      this.keys.delete(id);
    }
    return true;
  }
}
