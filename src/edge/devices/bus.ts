import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Aedes } from 'aedes';
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';
import {
  ConfigError,
  DisposableStore,
  errorMessage,
  LifecycleError,
  type Component,
  type Logger,
  type Registry,
} from '../../common/index.js';

/**
 * The node's MQTT event bus (DESIGN §5): an embedded aedes broker by default, or an external
 * broker (e.g. mosquitto) by configuration. aedes speaks MQTT 3.1.1 only: a client that
 * connects with protocol level 5 is refused (CONNACK "unacceptable protocol version"); device
 * apps that need MQTT 5 use an external broker. The bus's own client speaks 3.1.1, which both
 * kinds of broker accept.
 */
const buildBusConfigSchema = () =>
  z.discriminatedUnion('mode', [
    z.strictObject({
      mode: z.literal('embedded'),
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(1883),
    }),
    z.strictObject({
      mode: z.literal('external'),
      url: z.string().regex(/^(mqtt|mqtts|tcp|ws|wss):\/\//),
      username: z.string().optional(),
      password: z.string().optional(),
    }),
  ]);
export const busConfigSchema = lazySchema(buildBusConfigSchema);
export type BusConfig = z.input<typeof busConfigSchema>;

export type BusHandler = (topic: string, payload: Buffer) => void;

export interface EventBusOptions {
  readonly config: BusConfig;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** MQTT client id of the bus's own connection (unique per node on a shared external broker). */
  readonly clientId?: string;
}

export class EventBus implements Component {
  readonly name = 'device-bus';
  private readonly config: z.output<typeof busConfigSchema>;
  private disposables = new DisposableStore();
  private client: MqttClient | undefined;
  private server: Server | undefined;
  private brokerUrl: string | undefined;
  private readonly handlers = new Set<BusHandler>();
  /** embedded mode: the broker, created when the first client connects (or a retained publish) */
  private broker: Aedes | undefined;
  private brokerLoading: Promise<Aedes> | undefined;
  /** embedded mode: the manager's own subscriptions, served in-process */
  private readonly filters = new Set<string>();
  private readonly deliver = (
    packet: { topic: string; payload: Buffer | string },
    done: () => void,
  ): void => {
    this.dispatch(
      packet.topic,
      Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
    );
    done();
  };
  private readonly metrics: { received: Counter; published: Counter; clients: Gauge };

  constructor(private readonly opts: EventBusOptions) {
    const r = busConfigSchema.safeParse(opts.config);
    if (!r.success)
      throw new ConfigError(
        'invalid device bus config',
        r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    this.config = r.data;
    const registers = opts.registry === undefined ? [] : [opts.registry];
    this.metrics = {
      received: new Counter({
        name: 'tether_device_bus_received_total',
        help: 'MQTT messages the device manager received on the bus',
        registers,
      }),
      published: new Counter({
        name: 'tether_device_bus_published_total',
        help: 'MQTT messages the device manager published on the bus',
        registers,
      }),
      clients: new Gauge({
        name: 'tether_device_bus_clients',
        help: 'Clients connected to the embedded broker',
        registers,
      }),
    };
  }

  /** Where device apps and mapper processes connect (`mqtt://host:port`). */
  get url(): string {
    if (this.brokerUrl === undefined) throw new LifecycleError('device bus not started');
    return this.brokerUrl;
  }

  async start(): Promise<void> {
    // a fresh owner per start: a supervisor may restart a stopped bus
    this.disposables = new DisposableStore();
    this.filters.clear();
    try {
      if (this.config.mode === 'embedded') await this.listen(this.config.host, this.config.port);
      else await this.connectExternal(this.config.url);
      this.opts.logger.info({ url: this.brokerUrl, mode: this.config.mode }, 'device bus ready');
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /**
   * Embedded mode: the port listens at once, but aedes is loaded and the broker created only when
   * the first client (a device app, a mapper process, an MQTT device) connects. The manager's
   * own traffic is in-process (no MQTT client): its subscriptions are matched here while no
   * broker exists — no other subscriber can exist then, so nothing else could receive a publish.
   * An agent with only simulated or Modbus devices and no bus clients thus never loads aedes nor
   * mqtt (~21 MiB of RSS; issue 12, docs/benchmarks.md "Edge footprint").
   */
  private async listen(host: string, port: number): Promise<void> {
    const server = createServer((socket) => {
      // errors before the broker owns the socket (a reset during the load) must not be unhandled
      const early = (): void => undefined;
      socket.on('error', early);
      this.embeddedBroker().then(
        (broker) => {
          socket.off('error', early);
          if (this.server !== server) socket.destroy();
          else broker.handle(socket);
        },
        (e: unknown) => {
          this.opts.logger.warn({ err: errorMessage(e) }, 'device bus: cannot start the broker');
          socket.destroy();
        },
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The broker ends its clients' connections first; a net.Server closes only once they are gone.
    this.disposables.add(async () => {
      this.server = undefined;
      const loading = this.brokerLoading;
      this.brokerLoading = undefined;
      this.broker = undefined;
      const broker = await loading?.catch(() => undefined);
      if (broker !== undefined)
        await new Promise<void>((resolve) => {
          broker.close(() => {
            resolve();
          });
        });
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    });
    const addr = server.address() as AddressInfo;
    this.brokerUrl = `mqtt://${host.includes(':') ? `[${host}]` : host}:${String(addr.port)}`;
  }

  private embeddedBroker(): Promise<Aedes> {
    this.brokerLoading ??= (async () => {
      const { Aedes } = await import('aedes');
      const broker = await Aedes.createBroker();
      broker.on('clientError', (client, e) => {
        this.opts.logger.debug({ client: client.id, err: errorMessage(e) }, 'bus client error');
      });
      broker.on('connectionError', (client, e) => {
        this.opts.logger.warn({ client: client.id, err: errorMessage(e) }, 'bus connection refused');
      });
      this.metrics.clients.reset();
      broker.on('client', () => {
        this.metrics.clients.inc();
      });
      broker.on('clientDisconnect', () => {
        this.metrics.clients.dec();
      });
      // From here on the broker delivers the manager's subscriptions; filters added later are
      // subscribed by subscribe() (this.broker is set in the same synchronous step as the snapshot).
      this.broker = broker;
      await Promise.all([...this.filters].map((f) => this.subscribeOn(broker, f)));
      this.opts.logger.debug({ url: this.brokerUrl }, 'device bus: broker started for the first client');
      return broker;
    })();
    return this.brokerLoading;
  }

  private subscribeOn(broker: Aedes, filter: string): Promise<void> {
    return new Promise<void>((resolve) => {
      broker.subscribe(filter, this.deliver, resolve);
    });
  }

  private dispatch(topic: string, payload: Buffer): void {
    this.metrics.received.inc();
    for (const h of this.handlers) {
      try {
        h(topic, payload);
      } catch (e) {
        this.opts.logger.warn({ topic, err: errorMessage(e) }, 'device bus handler failed');
      }
    }
  }

  private async connectExternal(url: string): Promise<void> {
    this.brokerUrl = url;
    const { connectAsync } = await import('mqtt');
    const ext = this.config.mode === 'external' ? this.config : undefined;
    const client = await connectAsync(url, {
      protocolVersion: 4,
      clientId: this.opts.clientId ?? `tether-devices-${Math.random().toString(36).slice(2, 10)}`,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      ...(ext?.username === undefined ? {} : { username: ext.username }),
      ...(ext?.password === undefined ? {} : { password: ext.password }),
    });
    this.client = client;
    this.disposables.add(() => client.endAsync(true));
    client.on('message', (topic, payload) => {
      this.dispatch(topic, payload);
    });
    client.on('error', (e) => {
      this.opts.logger.warn({ err: errorMessage(e) }, 'device bus client error');
    });
    client.on('offline', () => {
      this.opts.logger.warn({ url: this.brokerUrl }, 'device bus connection lost; reconnecting');
    });
  }

  async stop(): Promise<void> {
    // Sockets of connected device apps keep a net.Server from closing; end them first.
    this.client = undefined;
    this.handlers.clear();
    await this.disposables.dispose().catch((e: unknown) => {
      this.opts.logger.warn({ err: errorMessage(e) }, 'device bus stop');
    });
  }

  /** Whether the bus's own client is connected to the broker now. */
  get connected(): boolean {
    // embedded: the manager is in-process with the broker, so "connected" is "listening"
    if (this.config.mode === 'embedded') return this.server?.listening === true;
    return this.client?.connected === true;
  }

  onMessage(h: BusHandler): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  async subscribe(filters: readonly string[]): Promise<void> {
    if (this.config.mode === 'embedded') {
      if (this.server === undefined) throw new LifecycleError('device bus not started');
      const added = filters.filter((f) => !this.filters.has(f));
      for (const f of added) this.filters.add(f);
      const broker = this.broker;
      if (broker !== undefined) await Promise.all(added.map((f) => this.subscribeOn(broker, f)));
      return;
    }
    if (this.client === undefined) throw new LifecycleError('device bus not started');
    // MQTT client resubscribes on reconnect (resubscribe: true by default)
    await this.client.subscribeAsync([...filters], { qos: 1 });
  }

  /** Fire and forget with QoS 1; a publish while disconnected is queued by the client. */
  publish(topic: string, payload: string | object, opts: IClientPublishOptions = { qos: 1 }): void {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    if (this.config.mode === 'embedded') {
      if (this.server === undefined) return;
      this.metrics.published.inc();
      const retain = opts.retain === true;
      const broker = this.broker;
      if (broker === undefined && !retain) {
        // no broker yet means no client: only the manager's own subscriptions can match
        if ([...this.filters].some((f) => topicMatches(f, topic))) this.dispatch(topic, Buffer.from(text));
        return;
      }
      const packet = {
        cmd: 'publish' as const,
        topic,
        payload: Buffer.from(text),
        qos: opts.qos ?? 1,
        retain,
        dup: false,
      };
      const send = (b: Aedes): void => {
        b.publish(packet, (e) => {
          if (e instanceof Error)
            this.opts.logger.warn({ topic, err: errorMessage(e) }, 'bus publish failed');
        });
      };
      // a retained message must be kept for clients that connect later: that needs the broker
      if (broker === undefined)
        void this.embeddedBroker().then(send, (e: unknown) => {
          this.opts.logger.warn({ topic, err: errorMessage(e) }, 'bus publish failed');
        });
      else send(broker);
      return;
    }
    if (this.client === undefined) return;
    this.metrics.published.inc();
    this.client.publish(topic, text, opts, (e) => {
      // mqtt.js 5 calls back with `null` on a PUBACK (its store's del(), despite the `error?: Error`
      // type): that is success, not the "bus publish failed err: null" it used to log.
      if (e instanceof Error) this.opts.logger.warn({ topic, err: errorMessage(e) }, 'bus publish failed');
    });
  }
}

/** MQTT 3.1.1 §4.7 topic filter matching ('+' one level, '#' the rest; wildcards skip '$' topics). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
