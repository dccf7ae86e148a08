import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { caPin, certInfo, createCsr, errorMessage, type Logger } from '../../common/index.js';
import { messageId, type Body, type Envelope, type MessageId } from '../../protocol/index.js';
import { keyMatches, loadCredentials, writePair, type EdgeCredentials } from './files.js';

/** What the rotator needs of the link (src/edge/link Link satisfies it). */
export interface RotationLink {
  send(body: Body, id?: MessageId): boolean;
}

export interface CertRotatorOptions {
  /** The credential directory written by joinCloud. */
  readonly dir: string;
  /** Rotate once this fraction of the certificate's lifetime has passed (default 2/3). */
  readonly fraction?: number;
  /** How often to look at the clock (default 60 s; tests use less). */
  readonly checkMs?: number;
  /** Give up on an unanswered request after this long and retry at the next check. */
  readonly replyTimeoutMs?: number;
}

export interface CertRotatorEvents {
  /** New credentials are on disk: the link must use them from its next (re)connect. */
  rotated: [EdgeCredentials];
  failed: [{ code: string; message: string }];
}

/**
 * Edge certificate rotation (issue 5: "rotated well before expiry while connected"). Past 2/3 of
 * the lifetime it makes a new key and CSR, asks the cloud with a `certRotate` query over the
 * established channel, checks the answer (same CN, its own key, the pinned CA), writes the pair
 * atomically and emits `rotated`. The lifetime is measured from when this edge obtained the
 * certificate, not notBefore, which the CA backdates for clock skew — else a short-lived
 * certificate would look two-thirds used at birth.
 */
export class CertRotator extends EventEmitter<CertRotatorEvents> {
  readonly name = 'cert-rotator';
  private creds: EdgeCredentials;
  private timer: NodeJS.Timeout | undefined;
  private pending: { id: MessageId; keyPem: string; at: number } | undefined;

  constructor(
    private readonly opts: CertRotatorOptions,
    private readonly link: RotationLink,
    private readonly log: Logger,
  ) {
    super();
    this.creds = loadCredentials(opts.dir);
  }

  get credentials(): EdgeCredentials {
    return this.creds;
  }

  /** When the current certificate is due for rotation. */
  get dueAt(): Date {
    const info = certInfo(this.creds.certPem);
    const start = Math.max(
      info.notBefore.getTime(),
      Math.min(this.creds.obtainedAt.getTime(), info.notAfter.getTime()),
    );
    return new Date(start + (info.notAfter.getTime() - start) * (this.opts.fraction ?? 2 / 3));
  }

  start(): Promise<void> {
    this.timer = setInterval(() => {
      this.tick().catch((e: unknown) => {
        this.log.warn({ err: errorMessage(e) }, 'certificate rotation check failed');
      });
    }, this.opts.checkMs ?? 60_000);
    this.timer.unref();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    return Promise.resolve();
  }

  /** Checks the clock; sends a request if due and none is pending. Also called by start's timer. */
  async tick(now = Date.now()): Promise<void> {
    if (this.pending !== undefined) {
      if (now - this.pending.at < (this.opts.replyTimeoutMs ?? 30_000)) return;
      this.log.warn('the cloud did not answer the certificate rotation; asking again');
      this.pending = undefined;
    }
    if (now < this.dueAt.getTime()) return;
    const cn = certInfo(this.creds.certPem).commonName;
    const { csrPem, keyPem } = await createCsr(cn);
    // stop() or another tick may have run while the key was generated.
    if ((this.pending as unknown) !== undefined || this.timer === undefined) return;
    const id = messageId(randomUUID());
    // Offline: nothing sent, the next check tries again (the old certificate is still valid).
    if (!this.link.send({ kind: 'query', method: 'certRotate', params: { csr: csrPem } }, id)) return;
    this.pending = { id, keyPem, at: now };
    this.log.info({ node: cn, dueAt: this.dueAt }, 'asked the cloud for a new certificate');
  }

  /**
   * Feed every reply the link forwards; true when it was the answer to this rotator's query
   * (the composition root's LinkHandler calls this first).
   */
  message(env: Envelope): boolean {
    const p = this.pending;
    if (env.kind !== 'reply' || p === undefined || env.ref !== p.id) return false;
    this.pending = undefined;
    if (env.method === 'error') {
      this.fail(env.code, `the cloud refused to rotate the certificate: ${env.message}`);
      return true;
    }
    if (env.method !== 'certRotate') {
      this.fail('BAD_RESPONSE', `the cloud answered certRotate with ${env.method}`);
      return true;
    }
    const { certificate } = env.result;
    try {
      const info = certInfo(certificate);
      const cn = certInfo(this.creds.certPem).commonName;
      if (info.commonName !== cn || !keyMatches(certificate, p.keyPem))
        throw new Error(`the certificate is for ${info.commonName}, not for this node's new key`);
      // The CA stays the one pinned at join; a rotation must not introduce another.
      if (env.result.caBundle !== '' && caPin(env.result.caBundle) !== caPin(this.creds.caPem))
        throw new Error('the cloud answered with a different CA than the one pinned at join');
      writePair(this.opts.dir, certificate, p.keyPem);
      this.creds = loadCredentials(this.opts.dir);
      this.log.info(
        { node: cn, serial: info.serial, notAfter: info.notAfter },
        'rotated the node certificate',
      );
      this.emit('rotated', this.creds);
    } catch (e) {
      this.fail('BAD_RESPONSE', `refusing the rotated certificate: ${errorMessage(e)}`);
    }
    return true;
  }

  private fail(code: string, message: string): void {
    this.log.warn({ code }, message);
    this.emit('failed', { code, message });
  }
}
