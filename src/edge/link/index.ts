export {
  Link,
  LinkConfigSchema,
  type LinkConfig,
  type LinkEvents,
  type LinkHandler,
  type LinkState,
  type LinkStore,
} from './link.js';
