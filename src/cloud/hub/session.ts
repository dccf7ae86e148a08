import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Logger } from '../../common/index.js';
import {
  encode,
  messageId,
  PROTOCOL_VERSION,
  type Body,
  type Envelope,
  type NodeName,
  type SessionId,
  type SessionSettings,
} from '../../protocol/index.js';
import type { KeepaliveMember, KeepaliveWheel } from './keepalive.js';

/** What a session shares with its hub: the keepalive timer and the live byte counters. */
export interface SessionHooks {
  readonly keepalive: KeepaliveWheel;
  /** bytes of a frame as it is sent (tether_hub_bytes_out_total counts as it happens) */
  readonly sent: (bytes: number) => void;
}

export type CloseReason = 'replaced' | 'peer-closed' | 'keepalive' | 'protocol' | 'slow' | 'shutdown';

/**
 * One connected edge node (DESIGN §2: one session per node, identity from its certificate).
 * Owns its socket and keepalive; everything above the envelope is the handler's business.
 */
export class EdgeSession implements KeepaliveMember {
  readonly id: SessionId;
  private closedReason: CloseReason | undefined;
  private greetedFlag = false;
  /** keepalive intervals without a frame from the edge (KeepaliveWheel); any frame resets it */
  missed = 0;
  private pingPeer = true;
  readonly connectedAt = Date.now();
  /** When the last frame of any kind (pings included) came from the edge: its proof of life. */
  lastFrameAt = Date.now();
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    readonly node: NodeName,
    private readonly ws: WebSocket,
    readonly settings: SessionSettings,
    private readonly log: Logger,
    private readonly onClose: (s: EdgeSession, reason: CloseReason) => void,
    private readonly hooks: SessionHooks,
  ) {
    this.id = randomUUID() as SessionId;
    ws.on('close', () => {
      this.finish('peer-closed');
    });
  }

  /** The hello was accepted: from now on the session is known to the handler. */
  markGreeted(): void {
    this.greetedFlag = true;
  }
  get greeted(): boolean {
    return this.greetedFlag;
  }

  /**
   * `ping` false: the cloud sends no pings. Every edge pings the cloud (link.ts) and any frame
   * proves liveness, so one direction of ping + pong lets both ends judge the link (issue 12: idle
   * bytes). The count is then of keepalive intervals without any frame from the edge, so a dead
   * link is still found after missedPongLimit empty intervals, as when the cloud pinged.
   */
  startKeepalive(ping = true): void {
    this.pingPeer = ping;
    this.hooks.keepalive.add(this);
  }

  /** KeepaliveWheel: once per keepalive interval. */
  ping(): void {
    if (this.pingPeer) this.send({ kind: 'ping' });
  }

  /** KeepaliveWheel: missedPongLimit intervals without a frame from the edge. */
  dead(missed: number): void {
    this.log.warn({ node: this.node, missed }, 'edge missed keepalives; closing its session');
    this.close('keepalive');
  }

  /** Any frame from the edge proves it is alive. */
  sawTraffic(bytes: number): void {
    this.bytesIn += bytes;
    this.lastFrameAt = Date.now();
    this.missed = 0;
  }

  /** Sends one message; false when the session is closed. */
  send(body: Body): boolean {
    if (this.closedReason !== undefined) return false;
    const env = { v: PROTOCOL_VERSION, id: messageId(randomUUID()), ts: Date.now(), ...body } as Envelope;
    const bytes = encode(env);
    this.bytesOut += bytes.byteLength;
    this.hooks.sent(bytes.byteLength);
    this.ws.send(bytes);
    return true;
  }

  /** Bytes queued in the socket: the sync pump stops feeding a session that does not drain (STYLE §6). */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.closedReason === undefined;
  }

  close(reason: CloseReason, message: string = reason): void {
    if (this.closedReason !== undefined) return;
    // 4000-4999: application codes (RFC 6455 §7.4.2); the edge logs the message
    const code =
      reason === 'replaced' ? 4001 : reason === 'protocol' ? 4002 : reason === 'shutdown' ? 1001 : 4003;
    this.ws.close(code, message.slice(0, 120));
    const t = setTimeout(() => {
      this.ws.terminate();
    }, 2000);
    t.unref();
    this.finish(reason);
  }

  private finish(reason: CloseReason): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.hooks.keepalive.remove(this);
    this.onClose(this, reason);
  }
}
