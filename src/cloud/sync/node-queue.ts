import {
  keyId,
  type InventoryItem,
  type JsonObject,
  type NodeName,
  type ObjectKey,
  type ObjectKeyId,
  type ResourceVersion,
  type SyncBody,
  type Uid,
} from '../../protocol/index.js';

/** The state an object should have on a node right now, or undefined when it must not be there. */
export interface Desired {
  readonly uid: Uid;
  readonly resourceVersion: ResourceVersion;
  readonly object: JsonObject;
}
export type Resolve = (key: ObjectKey) => Desired | undefined;

interface Held {
  readonly key: ObjectKey;
  readonly uid: Uid;
  readonly resourceVersion: ResourceVersion;
}

interface InFlight {
  readonly body: SyncBody;
  readonly id: ObjectKeyId;
  readonly sentAt: number;
}

export interface NodeQueueOptions {
  /** Max sync messages sent and not yet acked (DESIGN §2 window). */
  readonly window: number;
  /**
   * A message unacked for this long means the session is stuck (see `stalledFor`). Nothing is
   * retransmitted on a live connection: the WebSocket is ordered and reliable, so a resend could
   * only duplicate what a slow edge is still storing. A stuck session is closed instead, and the
   * reconnect's inventory decides what to send.
   */
  readonly stallTimeoutMs: number;
}

export interface QueueCounters {
  sent: number;
  /** Sessions closed because an ack did not come within stallTimeoutMs. */
  stalls: number;
  /** Upserts of a version the edge already held — must stay 0 (DESIGN §2). */
  redundant: number;
  acked: number;
  nacked: number;
}

/**
 * The per-node downstream queue, keyed by object (DESIGN §2):
 * - it holds *keys*, not versions: what is sent is resolved at send time from the current
 *   state, so a newer change always replaces an unsent one and an edge back from a long
 *   outage receives the latest state of each object once;
 * - `held` is what the edge has durably stored (its inventory, then every ack), so nothing it
 *   already holds is re-sent and deletes reach objects it holds that no longer belong;
 * - at most one message per object is in flight, so versions of one object arrive in order;
 * - memory is bounded by the number of the node's objects, not the number of changes.
 */
export class NodeQueue {
  private readonly held = new Map<ObjectKeyId, Held>();
  private readonly dirty = new Map<ObjectKeyId, ObjectKey>();
  private readonly inflight = new Map<number, InFlight>();
  private readonly inflightByKey = new Map<ObjectKeyId, number>();
  private nextSeq = 1;
  /** Until the inventory arrives, the queue does not know what the edge holds: it sends nothing. */
  private ready = false;
  readonly counters: QueueCounters = { sent: 0, stalls: 0, redundant: 0, acked: 0, nacked: 0 };

  constructor(
    readonly node: NodeName,
    private readonly opts: NodeQueueOptions,
    private readonly resolve: Resolve,
  ) {}

  /** Something about this object may have changed for this node. */
  markDirty(key: ObjectKey): void {
    this.dirty.set(keyId(key), key);
  }

  /**
   * A (re)connected edge reported everything it holds: that becomes the truth, and every
   * object it holds or should hold is reconsidered — the inventory diff of DESIGN §2.
   */
  applyInventory(items: readonly InventoryItem[], desiredKeys: readonly ObjectKey[]): void {
    this.held.clear();
    this.inflight.clear();
    this.inflightByKey.clear();
    for (const it of items)
      this.held.set(keyId(it.key), { key: it.key, uid: it.uid, resourceVersion: it.resourceVersion });
    for (const it of items) this.markDirty(it.key);
    for (const k of desiredKeys) this.markDirty(k);
    this.ready = true;
  }

  /** The link dropped: in-flight messages go back to dirty and wait for the next inventory. */
  disconnected(): void {
    for (const f of this.inflight.values()) this.dirty.set(f.id, f.body.key);
    this.inflight.clear();
    this.inflightByKey.clear();
    this.ready = false;
  }

  /** Messages to send now, within the window. */
  take(now: number): SyncBody[] {
    if (!this.ready) return [];
    const out: SyncBody[] = [];
    for (const [id, key] of this.dirty) {
      if (this.inflight.size >= this.opts.window) break;
      if (this.inflightByKey.has(id)) continue; // one version per object on the wire; it goes after the ack
      this.dirty.delete(id);
      const body = this.decide(id, key);
      if (body === undefined) continue;
      this.inflight.set(body.seq, { body, id, sentAt: now });
      this.inflightByKey.set(id, body.seq);
      this.counters.sent++;
      out.push(body);
    }
    return out;
  }

  private decide(id: ObjectKeyId, key: ObjectKey): SyncBody | undefined {
    const want = this.resolve(key);
    const has = this.held.get(id);
    if (want !== undefined) {
      if (has?.uid === want.uid && has.resourceVersion === want.resourceVersion) return undefined;
      return {
        kind: 'sync',
        op: 'upsert',
        seq: this.nextSeq++,
        key,
        uid: want.uid,
        resourceVersion: want.resourceVersion,
        object: want.object,
      };
    }
    if (has === undefined) return undefined;
    return {
      kind: 'sync',
      op: 'delete',
      seq: this.nextSeq++,
      key,
      uid: has.uid,
      resourceVersion: has.resourceVersion,
    };
  }

  /** The edge stored message `seq` durably. Unknown seqs (from an older connection) are ignored. */
  ack(seq: number): boolean {
    const f = this.inflight.get(seq);
    if (f === undefined) return false;
    this.settle(seq, f);
    this.counters.acked++;
    const b = f.body;
    if (b.op === 'upsert')
      this.held.set(f.id, { key: b.key, uid: b.uid, resourceVersion: b.resourceVersion });
    else if (this.held.get(f.id)?.uid === b.uid) this.held.delete(f.id);
    return true;
  }

  /** The edge refused message `seq`. Retryable → reconsidered later; otherwise dropped (logged by the caller). */
  nack(seq: number, retryable: boolean): SyncBody | undefined {
    const f = this.inflight.get(seq);
    if (f === undefined) return undefined;
    this.settle(seq, f);
    this.counters.nacked++;
    if (retryable) this.dirty.set(f.id, f.body.key);
    return f.body;
  }

  private settle(seq: number, f: InFlight): void {
    this.inflight.delete(seq);
    if (this.inflightByKey.get(f.id) === seq) this.inflightByKey.delete(f.id);
  }

  /** How long the oldest unacked message has waited (0 when none): over stallTimeoutMs the session is stuck. */
  stalledFor(now: number): number {
    let oldest = now;
    for (const f of this.inflight.values()) oldest = Math.min(oldest, f.sentAt);
    return now - oldest;
  }

  get stallTimeoutMs(): number {
    return this.opts.stallTimeoutMs;
  }

  /** Counts an upsert the edge reported as already held (its redundant-receive signal). */
  noteRedundant(): void {
    this.counters.redundant++;
  }

  get isReady(): boolean {
    return this.ready;
  }
  /** Objects waiting to be (re)considered plus messages awaiting an ack. */
  get depth(): number {
    return this.dirty.size + this.inflight.size;
  }
  get inFlight(): number {
    return this.inflight.size;
  }
  /** What the cloud believes the edge holds (for tests and `tether status`). */
  heldVersion(key: ObjectKey): { uid: Uid; resourceVersion: ResourceVersion } | undefined {
    return this.held.get(keyId(key));
  }
  get heldCount(): number {
    return this.held.size;
  }
}
