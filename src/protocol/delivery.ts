import { keyId, type ObjectKeyId } from './ids.js';
import type { Kind, Status, Sync } from './envelope.js';

/** down = cloud → edge, up = edge → cloud. */
export type Direction = 'down' | 'up' | 'both';
/** Which end of the link a piece of code is. */
export type Side = 'cloud' | 'edge';

export interface DeliveryRule {
  readonly direction: Direction;
  /**
   * Delivered reliably: the sender keeps it until the peer's `ack` (or a non-retryable
   * `nack`) and resends otherwise; the receiver acks only after the effect is durable
   * (DESIGN §2, STYLE §5).
   */
  readonly acked: boolean;
  /**
   * A newer message for the same key replaces an unsent/unacked older one in the sender's
   * queue (sync: by object key; status: by object key and write type — see `coalesceKey`).
   */
  readonly coalescedByKey: boolean;
  /** The kind that answers this one, if any (answers are matched by `ref` / `seq`). */
  readonly answer: Kind | null;
}

/**
 * Delivery semantics belong to the message kind (STYLE §5, KubeEdge's ACK/NO-ACK split):
 * one static table, consulted by the channel on both ends.
 */
export const DELIVERY = {
  hello: { direction: 'up', acked: false, coalescedByKey: false, answer: 'welcome' },
  welcome: { direction: 'down', acked: false, coalescedByKey: false, answer: null },
  inventory: { direction: 'up', acked: false, coalescedByKey: false, answer: null },
  sync: { direction: 'down', acked: true, coalescedByKey: true, answer: 'ack' },
  ack: { direction: 'both', acked: false, coalescedByKey: false, answer: null },
  nack: { direction: 'both', acked: false, coalescedByKey: false, answer: null },
  status: { direction: 'up', acked: true, coalescedByKey: true, answer: 'ack' },
  event: { direction: 'both', acked: false, coalescedByKey: false, answer: null },
  query: { direction: 'both', acked: false, coalescedByKey: false, answer: 'reply' },
  reply: { direction: 'both', acked: false, coalescedByKey: false, answer: null },
  streamOpen: { direction: 'down', acked: false, coalescedByKey: false, answer: null },
  streamData: { direction: 'both', acked: false, coalescedByKey: false, answer: null },
  streamWindow: { direction: 'both', acked: false, coalescedByKey: false, answer: null },
  streamResize: { direction: 'down', acked: false, coalescedByKey: false, answer: null },
  streamClose: { direction: 'both', acked: false, coalescedByKey: false, answer: null },
  ping: { direction: 'both', acked: false, coalescedByKey: false, answer: 'pong' },
  pong: { direction: 'both', acked: false, coalescedByKey: false, answer: null },
} as const satisfies { readonly [K in Kind]: DeliveryRule };

/** May `side` receive a message of this kind? (A cloud receiving `sync` is a protocol violation.) */
export function mayReceive(side: Side, kind: Kind): boolean {
  const d: Direction = DELIVERY[kind].direction;
  return d === 'both' || (side === 'edge' ? d === 'down' : d === 'up');
}

/** May `side` send a message of this kind? */
export function maySend(side: Side, kind: Kind): boolean {
  return mayReceive(side === 'edge' ? 'cloud' : 'edge', kind);
}

/**
 * The coalescing key of a reliable message: a newer message with the same key supersedes an
 * older unacked one (DESIGN §2: latest state per object downstream, latest status per pod upstream).
 * Status writes of different types for one key (e.g. a Node's status and its Lease renewal
 * target different objects anyway, but a Pod could get both `podStatus` and `event`) never collide.
 */
export function coalesceKey(env: Sync | Status): string {
  switch (env.kind) {
    case 'sync':
      return keyId(env.key);
    case 'status':
      // event writes create new Events: each one is distinct, never replaced
      return env.write.type === 'event'
        ? `event:${env.id}`
        : `${env.write.type}:${keyId(env.key) satisfies ObjectKeyId}`;
  }
}
