/** Finds a pod's node through the Kubernetes API (the cloud reaches Kubernetes only through it, DESIGN §1). */
import type { CoreV1Api } from '@kubernetes/client-node';
import { errorMessage } from '../../common/index.js';

export interface PodPlace {
  node: string;
  uid: string;
  containers: string[];
}

export type LocateResult = { ok: true; value: PodPlace } | { ok: false; status: number; message: string };

export interface PodLocator {
  locate(namespace: string, pod: string): Promise<LocateResult>;
}

/** Reads the pod with the cloud core's own client. */
export function kubePodLocator(core: CoreV1Api): PodLocator {
  return {
    async locate(namespace, pod) {
      try {
        const p = await core.readNamespacedPod({ name: pod, namespace });
        const node = p.spec?.nodeName ?? '';
        if (node === '')
          return { ok: false, status: 400, message: `pod "${namespace}/${pod}" is not bound to a node yet` };
        const containers = [
          ...(p.spec?.containers ?? []),
          ...(p.spec?.initContainers ?? []),
          ...(p.spec?.ephemeralContainers ?? []),
        ].map((c) => c.name);
        return { ok: true, value: { node, uid: p.metadata?.uid ?? '', containers } };
      } catch (e) {
        if ((e as { code?: unknown }).code === 404)
          return { ok: false, status: 404, message: `pod "${namespace}/${pod}" not found` };
        return {
          ok: false,
          status: 503,
          message: `cannot read pod "${namespace}/${pod}": ${errorMessage(e)}`,
        };
      }
    },
  };
}
