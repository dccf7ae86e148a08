import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectAsync, type MqttClient } from 'mqtt';
import { EdgeStore } from '../../../src/edge/store/index.js';
import { uid, resourceVersion, type JsonObject, type ObjectKey } from '../../../src/protocol/index.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => {
        resolve(p);
      });
    });
    s.on('error', reject);
  });
}

export async function waitFor<T>(
  fn: () => T | undefined | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A real Modbus TCP server process (test/edge/devices/fixtures/modbus-server.mjs). */
export class ModbusProcess {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    /** `wrote <addr> <value>` lines of the writes the server received */
    readonly writes: string[],
  ) {}

  static async start(port = 0): Promise<ModbusProcess> {
    const script = new URL('./fixtures/modbus-server.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', script, String(port)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const writes: string[] = [];
    const listening = new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => {
        reject(new Error(`modbus server exited ${String(code)}`));
      });
      lines.on('line', (l) => {
        const m = /^listening (\d+)$/.exec(l);
        if (m !== null) resolve(Number(m[1]));
        else if (l.startsWith('wrote')) writes.push(l);
      });
    });
    return new ModbusProcess(await listening, child, writes);
  }

  set(kind: 'holding' | 'input', addr: number, value: number): void {
    this.child.stdin?.write(`${kind} ${String(addr)} ${String(value)}\n`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }
}

/** Debian's mosquitto on a loopback port of its own. */
export class Mosquitto {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<Mosquitto> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tether-mosq-'));
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${String(port)} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    const m = new Mosquitto(port, child, dir);
    await waitFor(() => child.exitCode === null && true, 'mosquitto');
    // ready when it accepts a connection
    const end = Date.now() + 10_000;
    for (;;) {
      try {
        const c = await connectAsync(`mqtt://127.0.0.1:${String(port)}`, {
          reconnectPeriod: 0,
          connectTimeout: 500,
        });
        await c.endAsync();
        break;
      } catch (e) {
        if (Date.now() > end) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${String(this.port)}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function tempStore(): { store: EdgeStore; dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tether-devices-'));
  const path = join(dir, 'edge.db');
  const store = new EdgeStore({ path });
  store.open();
  return {
    store,
    dir,
    path,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let rv = 0;
export function put(
  store: EdgeStore,
  obj: JsonObject & { kind: string; metadata: { name: string; namespace: string } },
): ObjectKey {
  const key: ObjectKey = {
    group: 'devices.tether.dev',
    version: 'v1alpha1',
    kind: obj.kind,
    namespace: obj.metadata.namespace,
    name: obj.metadata.name,
  };
  store.applySync({
    kind: 'sync',
    seq: ++rv,
    op: 'upsert',
    key,
    uid: uid(`uid-${obj.kind}-${obj.metadata.name}`),
    resourceVersion: resourceVersion(String(rv)),
    object: obj,
  });
  return key;
}

/** A real MQTT client that records what it receives. */
export async function recorder(
  url: string,
  filters: string[],
  protocolVersion: 4 | 5 = 4,
): Promise<{ client: MqttClient; got: { topic: string; body: string }[] }> {
  const client = await connectAsync(url, { protocolVersion, reconnectPeriod: 0 });
  const got: { topic: string; body: string }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, body: payload.toString() }));
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, got };
}

export function mosquittoPub(port: number, topic: string, message: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      'mosquitto_pub',
      ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-m', message],
      { stdio: 'ignore' },
    );
    p.on('error', reject);
    p.on('exit', (code) => {
      resolve(code ?? -1);
    });
  });
}
