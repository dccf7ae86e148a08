import type { CoreV1Api } from '@kubernetes/client-node';
import { apiStatus } from './errors.js';

/** Creates the namespace unless it exists; a concurrent create by another replica (409) is fine. */
export async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.readNamespace({ name });
    return;
  } catch (e) {
    if (apiStatus(e) !== 404) throw e;
  }
  try {
    await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  } catch (e) {
    if (apiStatus(e) !== 409) throw e;
  }
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string | undefined): string | undefined =>
  s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
