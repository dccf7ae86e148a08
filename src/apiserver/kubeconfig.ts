/** Kubeconfig files for the admin and other identities (client certificates signed by our CA). */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigParams {
  server: string;
  caPem: string | undefined;
  user: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  token?: string;
  contextName?: string;
  namespace?: string;
}

export function kubeconfigYaml(p: KubeconfigParams): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const ctx = p.contextName ?? 'tether';
  const cluster: Record<string, unknown> = { server: p.server };
  if (p.caPem !== undefined) cluster['certificate-authority-data'] = b64(p.caPem);
  else if (p.server.startsWith('http://')) cluster['insecure-skip-tls-verify'] = true;
  const user: Record<string, unknown> = {};
  if (p.clientCertPem !== undefined) user['client-certificate-data'] = b64(p.clientCertPem);
  if (p.clientKeyPem !== undefined) user['client-key-data'] = b64(p.clientKeyPem);
  if (p.token !== undefined) user['token'] = p.token;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tether', cluster }],
    users: [{ name: p.user, user }],
    contexts: [
      {
        name: ctx,
        context: {
          cluster: 'tether',
          user: p.user,
          ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
        },
      },
    ],
    'current-context': ctx,
    preferences: {},
  });
}

export function writeKubeconfig(path: string, p: KubeconfigParams): void {
  writeFileSync(path, kubeconfigYaml(p), { mode: 0o600 });
}
