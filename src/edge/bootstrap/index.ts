/**
 * Edge bootstrap (issue 5): `tether edge join` (pin the cloud CA, token + CSR → certificate)
 * and rotation of the node certificate over the channel.
 */
export { joinCloud, discoverCa, JoinError, type JoinOptions } from './join.js';
export {
  CertRotator,
  type CertRotatorOptions,
  type CertRotatorEvents,
  type RotationLink,
} from './rotator.js';
export { loadCredentials, writePair, FILES, type EdgeCredentials } from './files.js';
