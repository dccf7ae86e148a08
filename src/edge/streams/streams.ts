import path from 'node:path';
import { realpath } from 'node:fs/promises';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';
import {
  ConfigError,
  TetherError,
  assertNever,
  errorMessage,
  type Component,
  type Logger,
  type Registry,
} from '../../common/index.js';
import {
  STREAM_CHANNELS,
  type Body,
  type Envelope,
  type JsonObject,
  type MetricsPath,
  type ObjectKey,
  type StreamEnd,
  type StreamId,
  type StreamOpenBody,
  type StreamTarget,
  type StreamType,
} from '../../protocol/index.js';
import {
  LABEL_CONTAINER_NAME,
  LABEL_POD_UID,
  podLogDirectory,
  type ContainerId,
  type ContainerStatus,
  type ContainerSummary,
  type RuntimeClient,
} from '../cri/index.js';
import { PortForwardConnection, RemoteCommand, type CommandResult } from './spdy.js';
import { CriLogReader, parseTimestamp } from './logs.js';
import { collectResourceMetrics } from './metrics.js';

const buildEdgeStreamsConfigSchema = () =>
  z.object({
    /** This node: only pods whose spec.nodeName is this are served (contract §8). */
    nodeName: z.string().min(1),
    /** The pod log root the pod manager writes to (kubelet's /var/log/pods). */
    podLogsRoot: z.string().min(1).default('/var/log/pods'),
    /** Contract §9: concurrent streams per node. */
    maxStreams: z.number().int().min(1).default(64),
    /** Contract §9: largest streamData payload. */
    maxChunkBytes: z
      .number()
      .int()
      .min(1024)
      .max(32 * 1024)
      .default(32 * 1024),
    /** Contract §3: credit the edge grants the cloud for stdin / port-forward bytes. */
    inputWindowBytes: z
      .number()
      .int()
      .min(1024)
      .default(256 * 1024),
    /** Output a push source (exec, port-forward) may queue before its connection is paused. */
    outputQueueBytes: z
      .number()
      .int()
      .min(1024)
      .default(128 * 1024),
    /** Above this many bytes buffered on the link, streams wait so sync traffic gets through. */
    linkHighWaterBytes: z
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 * 1024),
    followPollMs: z.number().int().min(10).default(200),
    runningCheckMs: z.number().int().min(10).default(1000),
    /** CRI call + HTTP upgrade to the runtime's streaming server. */
    connectTimeoutMs: z.number().int().min(100).default(15_000),
  });
export const EdgeStreamsConfigSchema = lazySchema(buildEdgeStreamsConfigSchema);
export type EdgeStreamsConfig = z.input<typeof EdgeStreamsConfigSchema>;
type Config = z.output<typeof EdgeStreamsConfigSchema>;

/** What EdgeStreams needs of the link (the Link class has both). */
export interface StreamLink {
  send(body: Body): boolean;
  readonly bufferedAmount: number;
}

/** The edge store read EdgeStreams needs (EdgeStore.get). */
export interface StreamStore {
  get(key: ObjectKey): { readonly object: JsonObject } | undefined;
}

export type StreamRuntime = Pick<
  RuntimeClient,
  | 'listContainers'
  | 'containerStatus'
  | 'listPodSandbox'
  | 'exec'
  | 'attach'
  | 'portForward'
  | 'listContainerStats'
>;

export interface EdgeStreamsDeps {
  readonly store: StreamStore;
  /** Absent on an edge without pods: pod streams are refused, metrics still served. */
  readonly runtime?: StreamRuntime;
  readonly logger: Logger;
  readonly registry: Registry;
}

/** An open that cannot be served, with a message a user can act on (contract §7). */
export class StreamRefusedError extends TetherError {
  readonly code = 'STREAM_REFUSED';
}

interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly containers: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
}

/** One stream's edge end. */
interface Active {
  readonly id: StreamId;
  readonly type: StreamType;
  readonly link: StreamLink;
  /** Bytes the edge may still send (contract §2). */
  credit: number;
  /** Bytes the cloud may still send us (contract §3). */
  inputAllowed: number;
  ended: boolean;
  /** Called when credit arrives or the link drains. */
  kick: () => void;
  input: (channel: number, data: Uint8Array) => void;
  resize: (cols: number, rows: number) => void;
  /**
   * What arrived before the runtime connection was up: the cloud may send the EOF of an empty
   * stdin (it needs no credit) and kubectl's first terminal size right after the open.
   */
  early: { eof: boolean; size: { cols: number; rows: number } | undefined };
  /** Releases everything (reader, CRI stream); idempotent. */
  release: () => void;
}

/**
 * The edge side of logs/exec/attach/port-forward (issue 8; /work/briefs/streams-contract.md):
 * serves the cloud's stream frames from the CRI log files and containerd's streaming server,
 * with per-stream credit in both directions so a stalled client stalls only its own stream.
 */
export class EdgeStreams implements Component {
  readonly name = 'streams';
  private readonly cfg: Config;
  private readonly log: Logger;
  private readonly active = new Map<StreamId, Active>();
  private readonly runtime: StreamRuntime;
  private running = false;
  private readonly metrics;

  constructor(
    config: EdgeStreamsConfig,
    private readonly deps: EdgeStreamsDeps,
  ) {
    const parsed = EdgeStreamsConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid streams configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = parsed.data;
    this.log = deps.logger.child({ component: 'streams' });
    this.runtime = deps.runtime ?? noRuntime(this.cfg.nodeName);
    const registers = [deps.registry];
    this.metrics = {
      open: new Gauge({
        name: 'tether_edge_streams_open',
        help: 'Streams open on this edge, by type',
        labelNames: ['type'],
        registers,
      }),
      bytes: new Counter({
        name: 'tether_edge_stream_bytes_total',
        help: 'Stream payload bytes, by direction (up: edge→cloud) and type',
        labelNames: ['direction', 'type'],
        registers,
      }),
      refused: new Counter({
        name: 'tether_edge_streams_refused_total',
        help: 'Stream opens the edge refused, by reason',
        labelNames: ['reason'],
        registers,
      }),
      dropped: new Counter({
        name: 'tether_edge_stream_frames_dropped_total',
        help: 'Stream frames ignored (unknown or closed stream, credit exceeded)',
        labelNames: ['kind'],
        registers,
      }),
    };
  }

  start(): Promise<void> {
    this.running = true;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.running = false;
    this.closeAll();
    return Promise.resolve();
  }

  /** Streams currently open (for tests and `tether edge` status). */
  get openStreams(): number {
    return this.active.size;
  }

  /**
   * Contract §10: the link dropped — every stream ends; nothing is sent (the cloud ends its side
   * on its own). Wire to the link's 'offline' event.
   */
  closeAll(): void {
    for (const s of [...this.active.values()]) this.finish(s, undefined);
  }

  /** The LinkHandler entry: every stream frame from the cloud comes here. */
  message(env: Envelope, link: StreamLink): void {
    switch (env.kind) {
      case 'streamOpen':
        this.open(env, link);
        return;
      case 'streamWindow': {
        const s = this.active.get(env.stream);
        if (s === undefined) {
          this.drop('streamWindow');
          return;
        }
        s.credit += env.credit;
        s.kick();
        return;
      }
      case 'streamData': {
        const s = this.active.get(env.stream);
        if (s === undefined) {
          this.drop('streamData');
          return;
        }
        s.inputAllowed -= env.data.length;
        if (s.inputAllowed < 0) {
          this.drop('streamData');
          this.finish(s, { type: 'error', message: 'the cloud sent more stream data than the edge granted' });
          return;
        }
        this.metrics.bytes.inc({ direction: 'down', type: s.type }, env.data.length);
        s.input(env.channel, env.data);
        return;
      }
      case 'streamResize': {
        const s = this.active.get(env.stream);
        if (s === undefined) {
          this.drop('streamResize');
          return;
        }
        s.resize(env.cols, env.rows);
        return;
      }
      case 'streamClose': {
        const s = this.active.get(env.stream);
        if (s === undefined) return;
        // contract §7: the cloud cancels; release without answering
        this.finish(s, undefined);
        return;
      }
      case 'query':
        // set as the link's only handler, answer queries as the link does without one
        link.send({
          kind: 'reply',
          ref: env.id,
          method: 'error',
          code: 'UNSUPPORTED',
          message: `no handler for ${env.method}`,
        });
        return;
      default:
        // not a stream frame: the composition root routes those elsewhere
        return;
    }
  }

  // ── open ─────────────────────────────────────────────────────────────────────────────

  private open(env: Envelope<'streamOpen'>, link: StreamLink): void {
    const refuse = (reason: string, message: string): void => {
      this.metrics.refused.inc({ reason });
      link.send({ kind: 'streamClose', stream: env.stream, end: { type: 'error', message } });
    };
    if (this.active.has(env.stream)) {
      // a second open of a live id would hijack it: ignore it (contract §1: ids are unique)
      this.metrics.refused.inc({ reason: 'duplicate' });
      return;
    }
    if (!this.running) {
      refuse('stopped', `the edge node "${this.cfg.nodeName}" is shutting down`);
      return;
    }
    if (this.active.size >= this.cfg.maxStreams) {
      refuse(
        'limit',
        `too many concurrent streams on node "${this.cfg.nodeName}" (limit ${this.cfg.maxStreams})`,
      );
      return;
    }
    const s = this.newActive(env, link);
    this.active.set(s.id, s);
    this.metrics.open.inc({ type: s.type });
    this.serve(s, env).catch((e: unknown) => {
      const message = e instanceof StreamRefusedError ? e.message : `stream failed: ${errorMessage(e)}`;
      if (e instanceof StreamRefusedError) this.metrics.refused.inc({ reason: 'target' });
      else this.log.warn({ stream: s.id, type: s.type, err: errorMessage(e) }, 'stream failed');
      this.finish(s, { type: 'error', message });
    });
  }

  private newActive(env: StreamOpenBody, link: StreamLink): Active {
    return {
      id: env.stream,
      type: env.what.type,
      link,
      credit: env.window,
      inputAllowed: 0,
      ended: false,
      kick: () => undefined,
      input(channel, data) {
        if (channel === STREAM_CHANNELS.stdin && data.length === 0) this.early.eof = true;
      },
      resize(cols, rows) {
        this.early.size = { cols, rows };
      },
      early: { eof: false, size: undefined },
      release: () => undefined,
    };
  }

  private async serve(s: Active, env: StreamOpenBody): Promise<void> {
    const what = env.what;
    switch (what.type) {
      case 'logs':
        return this.serveLogs(s, this.podFor(env.target), env.target, what);
      case 'exec':
      case 'attach':
        return this.serveCommand(s, this.podFor(env.target), env.target, what);
      case 'portForward':
        return this.servePortForward(s, this.podFor(env.target), what.port);
      case 'metrics':
        return this.serveMetrics(s, what.path);
      default:
        assertNever(what);
    }
  }

  // ── metrics ──────────────────────────────────────────────────────────────────────────

  /**
   * One scrape (monitoring, docs/streams.md): the text on stdout within the cloud's credit,
   * then close, like a finite log. The node itself is the target: no pod check.
   */
  private async serveMetrics(s: Active, which: MetricsPath): Promise<void> {
    let text: string;
    switch (which) {
      case '/metrics':
        text = await this.deps.registry.metrics();
        break;
      case '/metrics/resource':
        text = await collectResourceMetrics(this.runtime, {
          isPodOfNode: (namespace, pod) => {
            const key: ObjectKey = { group: '', version: 'v1', kind: 'Pod', namespace, name: pod };
            const o = this.deps.store.get(key)?.object as { spec?: { nodeName?: string } } | undefined;
            return o?.spec?.nodeName === this.cfg.nodeName;
          },
          onError: (message) => {
            this.log.warn({ err: message }, 'resource metrics: container stats unavailable');
          },
        });
        break;
      default:
        assertNever(which);
    }
    const data = Buffer.from(text, 'utf8');
    let off = 0;
    let wake: (() => void) | undefined;
    s.kick = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    while (off < data.length) {
      if (gone(s)) return;
      if (s.credit <= 0 || s.link.bufferedAmount > this.cfg.linkHighWaterBytes) {
        // contract §2: wait for credit (or the link to drain) rather than queue the text
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (s.credit > 0) setTimeout(s.kick, 20).unref();
        });
        continue;
      }
      const n = Math.min(s.credit, this.cfg.maxChunkBytes, data.length - off);
      if (!this.sendData(s, STREAM_CHANNELS.stdout, data.subarray(off, off + n))) return;
      off += n;
    }
    this.finish(s, { type: 'closed' });
  }

  /** Contract §8: only pods this node's store holds as bound to it. */
  private podFor(t: StreamTarget): PodView {
    const key: ObjectKey = { group: '', version: 'v1', kind: 'Pod', namespace: t.namespace, name: t.pod };
    const obj = this.deps.store.get(key)?.object as
      | {
          metadata?: { uid?: string; annotations?: Record<string, string> };
          spec?: {
            nodeName?: string;
            containers?: { name: string }[];
            initContainers?: { name: string }[];
            ephemeralContainers?: { name: string }[];
          };
        }
      | undefined;
    const notFound = `pod "${t.namespace}/${t.pod}" not found on node "${this.cfg.nodeName}"`;
    if (obj?.spec?.nodeName !== this.cfg.nodeName) throw new StreamRefusedError(notFound);
    const uid = obj.metadata?.uid ?? '';
    if (t.uid !== undefined && t.uid !== uid) throw new StreamRefusedError(`${notFound} (uid ${t.uid})`);
    return {
      namespace: t.namespace,
      name: t.pod,
      uid,
      // kubectl debug's ephemeral containers are attached to and logged like the others.
      containers: [
        ...(obj.spec.containers ?? []),
        ...(obj.spec.initContainers ?? []),
        ...(obj.spec.ephemeralContainers ?? []),
      ].map((c) => c.name),
      annotations: obj.metadata?.annotations ?? {},
    };
  }

  private containerName(pod: PodView, t: StreamTarget): string {
    const ref = `${pod.namespace}/${pod.name}`;
    if (t.container !== undefined) {
      if (!pod.containers.includes(t.container))
        throw new StreamRefusedError(`container "${t.container}" is not valid for pod "${ref}"`);
      return t.container;
    }
    const dflt = pod.annotations['kubectl.kubernetes.io/default-container'];
    if (dflt !== undefined && pod.containers.includes(dflt)) return dflt;
    const [only, ...rest] = pod.containers;
    if (only !== undefined && rest.length === 0) return only;
    throw new StreamRefusedError(
      `a container name must be specified for pod "${ref}", choose one of: [${pod.containers.join(' ')}]`,
    );
  }

  /** The pod's CRI containers of that name, newest attempt first. */
  private async instances(pod: PodView, name: string): Promise<ContainerSummary[]> {
    const list = await this.runtime.listContainers({
      labels: { [LABEL_POD_UID]: pod.uid, [LABEL_CONTAINER_NAME]: name },
    });
    return list.sort(
      (a, b) =>
        b.metadata.attempt - a.metadata.attempt ||
        (b.createdAtNs > a.createdAtNs ? 1 : b.createdAtNs < a.createdAtNs ? -1 : 0),
    );
  }

  // ── logs ─────────────────────────────────────────────────────────────────────────────

  private async serveLogs(
    s: Active,
    pod: PodView,
    t: StreamTarget,
    o: Extract<StreamOpenBody['what'], { type: 'logs' }>,
  ): Promise<void> {
    const name = this.containerName(pod, t);
    const ref = `${pod.namespace}/${pod.name}`;
    const all = await this.instances(pod, name);
    const latest = all[0];
    const dir = podLogDirectory(this.cfg.podLogsRoot, pod.namespace, pod.name, pod.uid);
    let file: string;
    let live: ContainerId | undefined;
    if (o.previous) {
      const prev = all[1];
      if (prev !== undefined) file = (await this.runtime.containerStatus(prev.id)).logPath;
      else if (latest !== undefined && latest.metadata.attempt > 0)
        // the previous instance was removed; its log file may still be there (kubelet names it)
        file = path.join(dir, name, `${latest.metadata.attempt - 1}.log`);
      else throw new StreamRefusedError(`previous terminated container "${name}" in pod "${ref}" not found`);
    } else {
      if (latest === undefined)
        throw new StreamRefusedError(`container "${name}" in pod "${ref}" is waiting to start`);
      const st: ContainerStatus = await this.runtime.containerStatus(latest.id);
      file = st.logPath;
      live = latest.id;
    }
    const safe = await this.insideLogDir(dir, file);
    if (safe === undefined)
      throw new StreamRefusedError(
        o.previous
          ? `previous terminated container "${name}" in pod "${ref}" not found`
          : `no log file for container "${name}" in pod "${ref}"`,
      );
    let sinceNs: bigint | undefined;
    if (o.sinceTime !== undefined) {
      const p = parseTimestamp(o.sinceTime);
      if (p === undefined) throw new StreamRefusedError(`invalid sinceTime "${o.sinceTime}"`);
      sinceNs = p.ns;
    } else if (o.sinceSeconds !== undefined) {
      sinceNs = (BigInt(Date.now()) - BigInt(o.sinceSeconds) * 1000n) * 1_000_000n;
    }
    const runtime = this.runtime;
    const reader = new CriLogReader(safe, {
      follow: o.follow && live !== undefined,
      timestamps: o.timestamps,
      tailLines: o.tailLines,
      sinceNs,
      limitBytes: o.limitBytes,
      pollMs: this.cfg.followPollMs,
      runningCheckMs: this.cfg.runningCheckMs,
      isRunning: async () => {
        if (live === undefined) return false;
        try {
          return (await runtime.containerStatus(live)).state === 'running';
        } catch {
          return false;
        }
      },
    });
    await reader.open();
    s.release = () => {
      void reader.close();
    };
    if (gone(s)) {
      s.release();
      return;
    }
    // pull loop: read only as much as the cloud granted (contract §2), so a stalled reader
    // leaves the file unread instead of growing the heap
    let wake: (() => void) | undefined;
    s.kick = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const waitKick = (ms?: number): Promise<void> =>
      new Promise((resolve) => {
        wake = resolve;
        if (ms !== undefined) setTimeout(s.kick, ms).unref();
      });
    for (;;) {
      if (gone(s)) return;
      if (s.credit <= 0) {
        await waitKick();
        continue;
      }
      if (s.link.bufferedAmount > this.cfg.linkHighWaterBytes) {
        await waitKick(20);
        continue;
      }
      const chunk = await reader.read(Math.min(s.credit, this.cfg.maxChunkBytes));
      if (gone(s)) return;
      if (chunk.data.length > 0 && !this.sendData(s, STREAM_CHANNELS.stdout, chunk.data)) return;
      if (chunk.done) {
        this.finish(s, { type: 'closed' });
        return;
      }
    }
  }

  /** The real path of `file` if it lies inside the pod's log directory (never outside it). */
  private async insideLogDir(dir: string, file: string): Promise<string | undefined> {
    try {
      const [d, f] = await Promise.all([realpath(dir), realpath(file)]);
      return f.startsWith(d + path.sep) ? f : undefined;
    } catch {
      return undefined;
    }
  }

  // ── exec / attach ────────────────────────────────────────────────────────────────────

  private async serveCommand(
    s: Active,
    pod: PodView,
    t: StreamTarget,
    o: Extract<StreamOpenBody['what'], { type: 'exec' | 'attach' }>,
  ): Promise<void> {
    const name = this.containerName(pod, t);
    const latest = (await this.instances(pod, name))[0];
    if (latest?.state !== 'running')
      throw new StreamRefusedError(
        `container "${name}" in pod "${pod.namespace}/${pod.name}" is not running`,
      );
    const stdio = { stdin: o.stdin, stdout: o.stdout, stderr: o.stderr && !o.tty, tty: o.tty };
    const url =
      o.type === 'exec'
        ? await this.runtime.exec(latest.id, { cmd: o.command, ...stdio })
        : await this.runtime.attach(latest.id, stdio);
    if (gone(s)) return;
    const rc = await RemoteCommand.open(url, { ...stdio, timeoutMs: this.cfg.connectTimeoutMs });
    s.release = () => {
      rc.close();
    };
    if (gone(s)) {
      s.release();
      return;
    }
    const out = new Outbound(s, this, (paused) => {
      if (paused) rc.pause();
      else rc.resume();
    });
    rc.on('stdout', (d) => {
      out.push(STREAM_CHANNELS.stdout, d);
    });
    rc.on('stderr', (d) => {
      out.push(STREAM_CHANNELS.stderr, d);
    });
    s.kick = () => {
      out.flush();
    };
    if (o.stdin) {
      const input = new InputCredit(s, this.cfg.inputWindowBytes);
      rc.on('drain', () => {
        input.drained();
      });
      s.input = (channel, data) => {
        if (channel !== STREAM_CHANNELS.stdin) return;
        // contract §4: an empty stdin frame is EOF
        if (data.length === 0) rc.endStdin();
        else input.consumed(data.length, rc.writeStdin(data));
      };
      if (s.early.eof) rc.endStdin();
      else input.open();
    }
    if (o.tty) {
      s.resize = (cols, rows) => {
        rc.resize(cols, rows);
      };
      if (s.early.size !== undefined) rc.resize(s.early.size.cols, s.early.size.rows);
    }
    const result: CommandResult = await rc.result;
    // output queued before the exit status goes first
    await out.drained();
    this.finish(s, result.type === 'exit' ? { type: 'exit', code: result.code & 0xff } : result);
  }

  // ── port-forward ─────────────────────────────────────────────────────────────────────

  private async servePortForward(s: Active, pod: PodView, port: number): Promise<void> {
    const boxes = await this.runtime.listPodSandbox({
      labels: { [LABEL_POD_UID]: pod.uid },
      state: 'ready',
    });
    const box = boxes[0];
    if (box === undefined)
      throw new StreamRefusedError(`pod "${pod.namespace}/${pod.name}" has no running sandbox`);
    const url = await this.runtime.portForward(box.id, [port]);
    if (gone(s)) return;
    const pf = await PortForwardConnection.open(url, port, this.cfg.connectTimeoutMs);
    s.release = () => {
      pf.close();
    };
    if (gone(s)) {
      s.release();
      return;
    }
    const out = new Outbound(s, this, (paused) => {
      if (paused) pf.pause();
      else pf.resume();
    });
    pf.on('data', (d) => {
      out.push(STREAM_CHANNELS.stdin, d);
    });
    pf.on('error', (text) => {
      out.push(STREAM_CHANNELS.error, Buffer.from(text, 'utf8'));
    });
    s.kick = () => {
      out.flush();
    };
    const input = new InputCredit(s, this.cfg.inputWindowBytes);
    pf.on('drain', () => {
      input.drained();
    });
    s.input = (channel, data) => {
      if (channel !== STREAM_CHANNELS.stdin) return;
      // contract §4: an empty channel-0 frame = the client half-closed
      if (data.length === 0) pf.end();
      else input.consumed(data.length, pf.write(data));
    };
    if (s.early.eof) pf.end();
    else input.open();
    await new Promise<void>((resolve) => pf.once('end', resolve));
    await out.drained();
    this.finish(s, { type: 'closed' });
  }

  // ── shared ───────────────────────────────────────────────────────────────────────────

  /** @internal Sends one payload in ≤ maxChunk frames, charging credit; false if the link is gone. */
  sendData(s: Active, channel: number, data: Buffer): boolean {
    for (let off = 0; off < data.length; off += this.cfg.maxChunkBytes) {
      const part = data.subarray(off, off + this.cfg.maxChunkBytes);
      const ok = s.link.send({
        kind: 'streamData',
        stream: s.id,
        channel: channel as 0 | 1 | 2 | 3 | 4,
        data: part,
      });
      if (!ok) {
        // contract §10: the link is down; the cloud ends its side itself
        this.finish(s, undefined);
        return false;
      }
      s.credit -= part.length;
      this.metrics.bytes.inc({ direction: 'up', type: s.type }, part.length);
    }
    return true;
  }

  /** @internal */
  get config(): Config {
    return this.cfg;
  }

  /** Ends a stream once: releases it and, if `end` is given, tells the cloud. */
  private finish(s: Active, end: StreamEnd | undefined): void {
    if (gone(s)) return;
    s.ended = true;
    this.active.delete(s.id);
    this.metrics.open.dec({ type: s.type });
    try {
      s.release();
    } catch (e) {
      this.log.warn({ stream: s.id, err: errorMessage(e) }, 'releasing a stream failed');
    }
    s.kick();
    if (end !== undefined) s.link.send({ kind: 'streamClose', stream: s.id, end });
    this.log.debug({ stream: s.id, type: s.type, end: end?.type ?? 'released' }, 'stream ended');
  }

  private drop(kind: string): void {
    this.metrics.dropped.inc({ kind });
  }
}

/**
 * Output of a push source (exec, port-forward): queued while the cloud has granted no credit;
 * past `outputQueueBytes` the source is paused (TCP back-pressure reaches the container).
 */
class Outbound {
  private queue: { channel: number; data: Buffer }[] = [];
  private queued = 0;
  private paused = false;
  private retry: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly s: Active,
    private readonly owner: EdgeStreams,
    private readonly setPaused: (paused: boolean) => void,
  ) {}

  push(channel: number, data: Buffer): void {
    if (this.s.ended) return;
    this.queue.push({ channel, data });
    this.queued += data.length;
    this.flush();
  }

  flush(): void {
    const s = this.s;
    const cfg = this.owner.config;
    while (!s.ended && this.queue.length > 0 && s.credit > 0) {
      if (s.link.bufferedAmount > cfg.linkHighWaterBytes) {
        if (this.retry === undefined)
          this.retry = setTimeout(() => {
            this.retry = undefined;
            this.flush();
          }, 20);
        break;
      }
      const head = this.queue[0] as { channel: number; data: Buffer };
      const n = Math.min(head.data.length, s.credit, cfg.maxChunkBytes);
      const part = head.data.subarray(0, n);
      if (n === head.data.length) this.queue.shift();
      else head.data = head.data.subarray(n);
      this.queued -= n;
      if (!this.owner.sendData(s, head.channel, part)) break;
    }
    const full = this.queued > cfg.outputQueueBytes;
    if (full !== this.paused) {
      this.paused = full;
      this.setPaused(full);
    }
    if (this.queued === 0 || s.ended) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  /** Resolves once everything queued was sent (or the stream ended). */
  drained(): Promise<void> {
    if (this.queued === 0 || this.s.ended) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * Contract §3: the cloud may send `inputWindowBytes` before more credit; bytes are credited back
 * once the runtime's socket took them (at once, or on its 'drain'), batched to cut frames.
 */
class InputCredit {
  private owed = 0;
  private blocked = false;
  constructor(
    private readonly s: Active,
    private readonly window: number,
  ) {}

  open(): void {
    this.grant(this.window);
  }

  consumed(n: number, accepted: boolean): void {
    this.owed += n;
    if (!accepted) {
      this.blocked = true;
      return;
    }
    if (!this.blocked && this.owed >= Math.min(32 * 1024, this.window / 4)) this.flush();
    else if (!this.blocked)
      queueMicrotask(() => {
        this.flushIfIdle();
      });
  }

  drained(): void {
    this.blocked = false;
    this.flush();
  }

  private flushIfIdle(): void {
    if (!this.blocked && this.owed > 0) this.flush();
  }

  private flush(): void {
    if (this.owed === 0 || this.s.ended) return;
    const n = this.owed;
    this.owed = 0;
    this.grant(n);
  }

  private grant(n: number): void {
    this.s.inputAllowed += n;
    this.s.link.send({ kind: 'streamWindow', stream: this.s.id, credit: n });
  }
}

/** Read through a call: after an await the stream may have ended (TS cannot see that). */
/** The runtime of an edge without pods: no containers, every pod stream refused. */
function noRuntime(node: string): StreamRuntime {
  const refuse = (): Promise<never> =>
    Promise.reject(new StreamRefusedError(`pods are disabled on the edge node "${node}"`));
  return {
    listContainers: () => Promise.resolve([]),
    listContainerStats: () => Promise.resolve([]),
    listPodSandbox: () => Promise.resolve([]),
    containerStatus: refuse,
    exec: refuse,
    attach: refuse,
    portForward: refuse,
  };
}

function gone(s: Active): boolean {
  return s.ended;
}
