/**
 * The cloud–edge wire protocol (DESIGN §2): message types, identifiers, delivery rules and the
 * binary codec. This is the only public entry of `src/protocol`; it imports nothing else of
 * ours (DESIGN §1), so both `cloud` and `edge` can build on it.
 *
 * Typical use:
 *   const bytes = encode(env);                       // Uint8Array (MessagePack)
 *   const r = decode(bytes, limits);                 // never throws
 *   if (!r.ok) nack(r.error.code, r.error.message);  // ProtocolError: FRAME_TOO_LARGE | MALFORMED | …
 */
export * from './errors.js';
export * from './ids.js';
export * from './envelope.js';
export * from './delivery.js';
export { encode, decode, DEFAULT_LIMITS, type DecodeLimits } from './codec.js';
