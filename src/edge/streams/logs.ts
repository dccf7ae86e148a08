import { open, stat, type FileHandle } from 'node:fs/promises';

/**
 * Reads a CRI log file the way kubelet's /containerLogs does (pkg/kubelet/kuberuntime/logs):
 * lines `<RFC3339Nano> <stdout|stderr> <P|F>[:…] <msg>`; output is the message bytes only (a
 * newline after F, none after P), optionally prefixed with the timestamp; `tail` counts raw lines
 * of the current file, `since` drops older entries, `limitBytes` cuts the output exactly; `follow`
 * keeps reading across rotation (kubelet renames `0.log` to `0.log.<time>` and containerd reopens
 * `0.log`) until the container stops.
 *
 * Pull-based so memory stays bounded: the caller asks for at most `max` bytes when it has credit,
 * and the reader holds one file chunk plus one incomplete line at a time.
 */

/** Largest raw read; also the bound of what the reader buffers. */
const READ_CHUNK = 64 * 1024;
/** An incomplete line longer than this is cut and emitted (containerd splits at 16 KiB anyway). */
const MAX_LINE = 1024 * 1024;

export interface LogReadOptions {
  readonly follow: boolean;
  readonly timestamps: boolean;
  /** Lines from the end of the file; undefined = all. */
  readonly tailLines?: number | undefined;
  /** Entries before this time (ns since the epoch) are skipped. */
  readonly sinceNs?: bigint | undefined;
  readonly limitBytes?: number | undefined;
  /** While following and idle: is the container still running? false ends the follow. */
  readonly isRunning?: () => Promise<boolean>;
  /** How often an idle follow looks for new data or a rotated file. */
  readonly pollMs?: number;
  /** How often an idle follow asks `isRunning`. */
  readonly runningCheckMs?: number;
}

export interface LogChunk {
  readonly data: Buffer;
  /** No more output will come (end of file, limit reached, container stopped). */
  readonly done: boolean;
}

interface ParsedTime {
  readonly ns: bigint;
  /** RFC3339Nano as Go prints it (trailing zeros of the fraction trimmed). */
  readonly text: string;
}

const TIME_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** RFC 3339 (with up to 9 fraction digits) → ns since the epoch and Go's RFC3339Nano text. */
export function parseTimestamp(s: string): ParsedTime | undefined {
  const m = TIME_RE.exec(s);
  if (m === null) return undefined;
  const [, base = '', frac = '', zoneRaw = 'Z'] = m;
  const ms = Date.parse(`${base}${zoneRaw}`);
  if (Number.isNaN(ms)) return undefined;
  const ns = BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
  const trimmed = frac.replace(/0+$/, '');
  const zone = zoneRaw === '+00:00' ? 'Z' : zoneRaw;
  return { ns, text: `${base}${trimmed === '' ? '' : `.${trimmed}`}${zone}` };
}

export interface CriLogLine {
  readonly time: ParsedTime;
  readonly stream: 'stdout' | 'stderr';
  readonly partial: boolean;
  readonly msg: Buffer;
}

/** One line of a CRI log file (without its '\n'); undefined if malformed (kubelet skips those). */
export function parseCriLine(line: Buffer): CriLogLine | undefined {
  const sp1 = line.indexOf(0x20);
  if (sp1 < 0) return undefined;
  const time = parseTimestamp(line.subarray(0, sp1).toString('latin1'));
  if (time === undefined) return undefined;
  const sp2 = line.indexOf(0x20, sp1 + 1);
  if (sp2 < 0) return undefined;
  const stream = line.subarray(sp1 + 1, sp2).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const sp3 = line.indexOf(0x20, sp2 + 1);
  const tags = line.subarray(sp2 + 1, sp3 < 0 ? line.length : sp3).toString('latin1');
  // tags are ':'-separated; the first is P (partial) or F (full)
  const first = tags.split(':')[0];
  if (first !== 'P' && first !== 'F') return undefined;
  const msg = sp3 < 0 ? Buffer.alloc(0) : line.subarray(sp3 + 1);
  return { time, stream, partial: first === 'P', msg };
}

/** Offset of the first byte of the last `n` lines of the file (kubelet's tail: raw file lines). */
export async function tailStart(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n <= 0) return size;
  const buf = Buffer.alloc(READ_CHUNK);
  let end = size;
  let count = 0;
  // a final '\n' ends the last line; it does not start another
  let skipLast = true;
  while (end > 0) {
    const start = Math.max(0, end - READ_CHUNK);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) {
        skipLast = false;
        continue;
      }
      if (skipLast) {
        skipLast = false;
        continue;
      }
      count++;
      if (count === n) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

export class CriLogReader {
  private fh: FileHandle | undefined;
  private ino = 0;
  private pos = 0;
  private carry: Buffer = Buffer.alloc(0);
  private out: Buffer[] = [];
  private outLen = 0;
  private written = 0;
  private finished = false;
  private closed = false;
  private lastRunningCheck = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private readonly readBuf = Buffer.alloc(READ_CHUNK);
  /** Where a read without follow stops: the file size when it was opened. */
  private endAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly path: string,
    private readonly opts: LogReadOptions,
  ) {}

  /** Opens the file and seeks to the tail. Throws if the file cannot be opened. */
  async open(): Promise<void> {
    this.fh = await open(this.path, 'r');
    const st = await this.fh.stat();
    this.ino = st.ino;
    this.pos = this.opts.tailLines === undefined ? 0 : await tailStart(this.fh, st.size, this.opts.tailLines);
    // Without follow the answer is the file as it was now: lines written meanwhile would make
    // `--tail=N` return more than N lines (kubelet has that race; we don't).
    this.endAt = this.opts.follow ? Number.POSITIVE_INFINITY : st.size;
    this.lastRunningCheck = Date.now();
  }

  /**
   * Up to `max` bytes of output. While following with nothing new this waits (polling) until
   * there is output, the container stopped, or `close()` was called.
   */
  async read(max: number): Promise<LogChunk> {
    while (this.outLen === 0 && !this.finished && !this.closed) await this.fill();
    if (this.closed) return { data: Buffer.alloc(0), done: true };
    const data = this.take(max);
    return { data, done: this.finished && this.outLen === 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.wakeTimer);
    this.wake?.();
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  private take(max: number): Buffer {
    const parts: Buffer[] = [];
    let n = 0;
    while (n < max && this.out.length > 0) {
      const head = this.out[0] as Buffer;
      const want = max - n;
      if (head.length <= want) {
        parts.push(head);
        n += head.length;
        this.out.shift();
      } else {
        parts.push(head.subarray(0, want));
        this.out[0] = head.subarray(want);
        n += want;
      }
    }
    this.outLen -= n;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }

  /** Reads one chunk (or detects rotation / the end) and formats what it holds. */
  private async fill(): Promise<void> {
    const fh = this.fh;
    if (fh === undefined) {
      this.finished = true;
      return;
    }
    const want = Math.min(READ_CHUNK, this.endAt - this.pos);
    const { bytesRead } = want > 0 ? await fh.read(this.readBuf, 0, want, this.pos) : { bytesRead: 0 };
    if (this.closed) return;
    if (bytesRead > 0) {
      this.pos += bytesRead;
      // copy: readBuf is reused for the next read
      this.consume(Buffer.from(this.readBuf.subarray(0, bytesRead)));
      return;
    }
    if (!this.opts.follow) {
      this.finished = true;
      return;
    }
    if (await this.reopenIfRotated()) return;
    const now = Date.now();
    if (
      this.opts.isRunning !== undefined &&
      now - this.lastRunningCheck >= (this.opts.runningCheckMs ?? 1000)
    ) {
      this.lastRunningCheck = now;
      if (!(await this.opts.isRunning())) {
        // one last look: the container may have written its final lines just before stopping
        const last = await fh.read(this.readBuf, 0, READ_CHUNK, this.pos);
        if (last.bytesRead > 0) {
          this.pos += last.bytesRead;
          this.consume(Buffer.from(this.readBuf.subarray(0, last.bytesRead)));
          this.lastRunningCheck = 0;
          return;
        }
        this.finished = true;
        return;
      }
    }
    await this.sleep(this.opts.pollMs ?? 200);
  }

  /** kubelet rotation: the path now names a new file (renamed away) or was truncated. */
  private async reopenIfRotated(): Promise<boolean> {
    let st;
    try {
      st = await stat(this.path);
    } catch {
      return false; // renamed, not yet recreated: keep waiting on the old file
    }
    if (this.closed) return false;
    if (st.ino !== this.ino) {
      // we are at the end of the old file (read returned 0): continue at the new one's start
      await this.fh?.close().catch(() => undefined);
      this.fh = await open(this.path, 'r');
      this.ino = (await this.fh.stat()).ino;
      this.pos = 0;
      this.carry = Buffer.alloc(0);
      return true;
    }
    if (st.size < this.pos) {
      this.pos = 0;
      this.carry = Buffer.alloc(0);
      return true;
    }
    return false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.wakeTimer = setTimeout(resolve, ms);
    });
  }

  private consume(chunk: Buffer): void {
    let data = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      this.emitLine(data.subarray(start, nl));
      if (this.finished) return;
      start = nl + 1;
    }
    data = data.subarray(start);
    if (data.length > MAX_LINE) {
      this.emitLine(data);
      data = Buffer.alloc(0);
    }
    // copy so the carry does not pin the whole chunk
    this.carry = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
  }

  private emitLine(line: Buffer): void {
    if (this.finished) return;
    const l = parseCriLine(line);
    if (l === undefined) return;
    if (this.opts.sinceNs !== undefined && l.time.ns < this.opts.sinceNs) return;
    const parts: Buffer[] = [];
    if (this.opts.timestamps) parts.push(Buffer.from(`${l.time.text} `, 'latin1'));
    parts.push(l.msg);
    if (!l.partial) parts.push(NEWLINE);
    let out = Buffer.concat(parts);
    const limit = this.opts.limitBytes;
    if (limit !== undefined) {
      const room = limit - this.written;
      if (out.length >= room) {
        out = out.subarray(0, room);
        this.finished = true;
      }
    }
    this.written += out.length;
    if (out.length > 0) {
      this.out.push(out);
      this.outLen += out.length;
    }
  }
}

const NEWLINE = Buffer.from('\n');
