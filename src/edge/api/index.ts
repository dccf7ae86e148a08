/** The edge's local JSON endpoint (issue 10): the only public entry of this folder. */
export {
  API_ENDPOINT_FILE,
  API_TOKEN_FILE,
  LocalApi,
  LocalApiConfigSchema,
  LocalApiError,
  ensureToken,
  type EndpointInfo,
  type HealthView,
  type LocalApiConfig,
  type LocalApiDeps,
} from './server.js';
export { healthView } from './view.js';
