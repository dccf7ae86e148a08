/** The embedded Kubernetes-compatible API server (DESIGN §7, issue 3): the public entry. */
import { join } from 'node:path';
import { ApiServer, type ApiServerDeps } from './server.js';
import type { ApiServerConfigInput } from './config.js';

export { ApiServer, ADMIN_USER, SERVER_VERSION, type ApiServerDeps } from './server.js';
export { ApiServerConfigSchema, type ApiServerConfig, type ApiServerConfigInput } from './config.js';
export {
  ADMIN_GROUP,
  CLOUD_GROUP,
  READONLY_GROUP,
  parseTokenFile,
  type TokenEntry,
  type UserInfo,
} from './auth.js';
export { CertificateAuthority } from './pki.js';

export interface StartedApiServer {
  url: string;
  kubeconfigPath: string;
  /** The CA that signs every certificate of this server, including its kubelet client
   * (CN kube-apiserver-kubelet-client, O system:masters): kubelet endpoints trust this. */
  kubeletClientCAPath: string;
  server: ApiServer;
  stop(): Promise<void>;
}

/** Starts a server (ephemeral port by default) and returns its URL and admin kubeconfig. */
export async function startApiServer(
  config: Partial<ApiServerConfigInput> & { dataDir: string },
  deps: ApiServerDeps = {},
): Promise<StartedApiServer> {
  const server = new ApiServer(
    { port: 0, ...config, kubeconfigPath: config.kubeconfigPath ?? join(config.dataDir, 'admin.kubeconfig') },
    deps,
  );
  await server.start();
  return {
    url: server.url,
    kubeconfigPath: server.kubeconfigPath,
    kubeletClientCAPath: join(config.dataDir, 'pki', 'ca.crt'),
    server,
    stop: () => server.stop(),
  };
}
