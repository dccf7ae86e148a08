import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/** The default kubeconfig file name in the edge data directory. */
export const METASERVER_KUBECONFIG_FILE = 'metaserver.kubeconfig';

/**
 * Writes a kubeconfig for the local metaserver (`kubectl --kubeconfig <dataDir>/metaserver.kubeconfig`).
 * Mode 0600: it embeds the bearer token. With `caPem` the server is the https:// URL verified
 * against the local API's own CA (kubectl sends a token only over TLS); without it (plain HTTP,
 * tests) `insecure-skip-tls-verify` because @kubernetes/client-node refuses http:// otherwise.
 */
export async function writeMetaserverKubeconfig(
  file: string,
  opts: { url: string; token: string; caPem?: string; nodeName?: string },
): Promise<void> {
  const name = opts.nodeName === undefined ? 'tether-edge' : `tether-edge-${opts.nodeName}`;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster:
          opts.caPem === undefined
            ? { server: opts.url, 'insecure-skip-tls-verify': true }
            : { server: opts.url, 'certificate-authority-data': Buffer.from(opts.caPem).toString('base64') },
      },
    ],
    users: [{ name, user: { token: opts.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, stringify(doc), { mode: 0o600 });
  await chmod(file, 0o600);
}
