/**
 * Edge bootstrap and identity in the cloud (issue 5): the cloud CA kept in Kubernetes, join
 * tokens, the join handler the hub serves at POST /v1/bootstrap, certificate rotation over the
 * channel and the revocation list the hub's admission checks.
 */
export { CloudPki, CloudPkiConfigSchema, type CloudPkiConfig, type HubTls } from './pki.js';
export {
  TokenStore,
  joinCommand,
  TOKEN_RE,
  TOKEN_SECRET_TYPE,
  type TokenInfo,
  type CreateTokenOptions,
  type CreatedToken,
  type TokenCheck,
} from './tokens.js';
export { JoinService, type JoinServiceOptions } from './join.js';
export { Revocations, type Revoked } from './revocation.js';
export { CertRotation, edgeSecurity } from './rotation.js';
export { BootstrapError } from './errors.js';
