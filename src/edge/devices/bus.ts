import { createServer, type AddressInfo, type Server } from 'node:net';
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
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
export const busConfigSchema = z.discriminatedUnion('mode', [
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
    try {
      if (this.config.mode === 'embedded') {
        // aedes and mqtt are loaded on first start, not at import: together ~22 MiB of RSS that
        // an edge without devices never needs (issue 12, docs/benchmarks.md "Edge footprint").
        const { Aedes } = await import('aedes');
        const broker = await Aedes.createBroker();
        // If listen fails below, the broker still has to be closed.
        let brokerClosed = false;
        const closeBroker = (): Promise<void> =>
          brokerClosed
            ? Promise.resolve()
            : new Promise<void>((resolve) => {
                brokerClosed = true;
                broker.close(() => {
                  resolve();
                });
              });
        this.disposables.add(closeBroker);
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
        const server = createServer((socket) => {
          broker.handle(socket);
        });
        this.server = server;
        const { host, port } = this.config;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        // The broker ends its clients' connections first; a net.Server closes only once they are gone.
        this.disposables.add(async () => {
          await closeBroker();
          await new Promise<void>((resolve) => {
            server.close(() => {
              resolve();
            });
          });
        });
        const addr = server.address() as AddressInfo;
        this.brokerUrl = `mqtt://${host.includes(':') ? `[${host}]` : host}:${String(addr.port)}`;
      } else {
        this.brokerUrl = this.config.url;
      }
      const { connectAsync } = await import('mqtt');
      const client = await connectAsync(this.brokerUrl, {
        protocolVersion: 4,
        clientId: this.opts.clientId ?? `tether-devices-${Math.random().toString(36).slice(2, 10)}`,
        reconnectPeriod: 1000,
        connectTimeout: 5000,
        ...(this.config.mode === 'external' && this.config.username !== undefined
          ? { username: this.config.username }
          : {}),
        ...(this.config.mode === 'external' && this.config.password !== undefined
          ? { password: this.config.password }
          : {}),
      });
      this.client = client;
      // registered before the server-close disposer runs (reverse order): client first, then broker
      this.disposables.add(() => client.endAsync(true));
      client.on('message', (topic, payload) => {
        this.metrics.received.inc();
        for (const h of this.handlers) h(topic, payload);
      });
      client.on('error', (e) => {
        this.opts.logger.warn({ err: errorMessage(e) }, 'device bus client error');
      });
      client.on('offline', () => {
        this.opts.logger.warn({ url: this.brokerUrl }, 'device bus connection lost; reconnecting');
      });
      this.opts.logger.info({ url: this.brokerUrl, mode: this.config.mode }, 'device bus ready');
    } catch (e) {
      await this.stop();
      throw e;
    }
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
    return this.client?.connected === true;
  }

  onMessage(h: BusHandler): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  async subscribe(filters: readonly string[]): Promise<void> {
    if (this.client === undefined) throw new LifecycleError('device bus not started');
    // MQTT client resubscribes on reconnect (resubscribe: true by default)
    await this.client.subscribeAsync([...filters], { qos: 1 });
  }

  /** Fire and forget with QoS 1; a publish while disconnected is queued by the client. */
  publish(topic: string, payload: string | object, opts: IClientPublishOptions = { qos: 1 }): void {
    if (this.client === undefined) return;
    this.metrics.published.inc();
    this.client.publish(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), opts, (e) => {
      if (e !== undefined) this.opts.logger.warn({ topic, err: errorMessage(e) }, 'bus publish failed');
    });
  }
}
