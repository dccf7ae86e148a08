/** Edge hardware discovery (DESIGN §6, issue 6): the only public entry of this folder. */
export { discoverHardware, type DiscoverOptions } from './discover.js';
export {
  sanitizeLabelValue,
  LABEL_VALUE_RE,
  LABEL_PREFIX,
  buildLabels,
  buildExtendedResources,
} from './labels.js';
export { archFromMachine } from './platform.js';
export { PCI_RULES, matchPci, type PciRule } from './pci-ids.js';
export type * from './types.js';
export { ARCHITECTURES } from './types.js';
