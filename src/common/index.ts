export * from './brand.js';
export * from './errors.js';
export * from './logger.js';
export * from './lifecycle.js';
export * from './backoff.js';
export * from './metrics.js';
export * from './pki.js';
export * from './heartbeat.js';
