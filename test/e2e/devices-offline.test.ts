import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeName } from '../../src/protocol/index.js';
import { ChannelHarness, eventually } from '../support/channel.js';
import { REPO_ROOT, kubectl } from '../support/controlplane.js';
import { createEdgeHost, type EdgeHost } from '../support/netns.js';
import { NetnsModbus, startNetnsEdge, type NetnsEdge } from './autonomy-support.js';

const NODE = 'edge-devoff';

interface DeviceJson {
  status?: {
    properties?: { name: string; reported?: { value?: string } }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/**
 * Issue 9 (Done when: "With the link cut, device values keep updating in the edge store …;
 * after reconnect the cloud shows the latest"; "Stopping the Modbus server turns the device
 * Online=False"): a real edge process in its own network namespace polling a real Modbus TCP
 * server on the edge's side of the cut, the cloud reading the Device with kubectl.
 */
describe('devices while the edge is offline', () => {
  const h = new ChannelHarness();
  let host: EdgeHost;
  let edge: NetnsEdge | undefined;
  let modbus: NetnsModbus | undefined;

  beforeAll(async () => {
    await h.start();
    await kubectl(h.cp, ['apply', '-f', join(REPO_ROOT, 'deploy/crds/devices.tether.dev.yaml')]);
    await kubectl(h.cp, [
      'wait',
      '--for=condition=Established',
      'crd/devices.devices.tether.dev',
      'crd/devicemodels.devices.tether.dev',
    ]);
    host = createEdgeHost();
  });
  afterAll(async () => {
    await edge?.proc.kill('SIGKILL');
    await modbus?.stop();
    host.remove();
    await h.stop();
  });

  it(
    'devices offline — values keep changing at the edge while cut; after reconnect the cloud shows the latest with Online=True; a stopped device goes Online=False with a reason',
    { timeout: 240_000 },
    async () => {
      const cloud = await h.startCloud({ host: host.hostIp, keepaliveMs: 500, devices: true });
      modbus = await NetnsModbus.start(host.ns, 0);
      const mb = modbus;
      mb.set('input', 0, 215);
      edge = await startNetnsEdge(h, cloud, host, NODE, { devices: true });
      const e = edge;
      const fail = (what: string) => (err: unknown) => {
        throw new Error(`${what}: ${String(err)}\nedge output:\n${e.proc.output()}`);
      };
      await kubectl(h.cp, ['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            {
              apiVersion: 'devices.tether.dev/v1alpha1',
              kind: 'DeviceModel',
              metadata: { name: 'thermo', namespace: 'default' },
              spec: { properties: [{ name: 'temperature', type: 'float', unit: 'C' }] },
            },
            {
              apiVersion: 'devices.tether.dev/v1alpha1',
              kind: 'Device',
              metadata: { name: 'probe', namespace: 'default' },
              spec: {
                nodeName: NODE,
                deviceModelRef: { name: 'thermo' },
                protocol: { type: 'modbusTCP', modbusTCP: { host: '127.0.0.1', port: mb.port } },
                collectIntervalMs: 300,
                timeoutMs: 500,
                properties: [
                  {
                    name: 'temperature',
                    visitor: {
                      modbus: { register: 'InputRegister', address: 0, dataType: 'int16', scale: 0.1 },
                    },
                  },
                ],
              },
            },
          ],
        }),
      });
      const device = async (): Promise<DeviceJson> =>
        JSON.parse((await kubectl(h.cp, ['get', 'device', 'probe', '-o', 'json'])).stdout) as DeviceJson;
      const cloudValue = async (): Promise<string | undefined> =>
        (await device()).status?.properties?.find((p) => p.name === 'temperature')?.reported?.value;
      const online = async () => (await device()).status?.conditions?.find((c) => c.type === 'Online');
      // what the edge holds: its store, read beside the running agent (WAL allows a reader)
      const edgeValue = (): string | undefined => {
        let db: Database.Database | undefined;
        try {
          db = new Database(join(e.dataDir, 'edge.db'), { readonly: true, fileMustExist: true });
          const row = db.prepare("SELECT reported FROM device_twins WHERE property = 'temperature'").get() as
            { reported: string | null } | undefined;
          return row?.reported ?? undefined;
        } catch {
          return undefined;
        } finally {
          db?.close();
        }
      };

      await eventually(async () => (await cloudValue()) === '21.5', 'first value in the cloud', 90_000).catch(
        fail('online'),
      );
      await eventually(async () => (await online())?.status === 'True', 'Online=True', 30_000);

      host.cut();
      await eventually(
        () => cloud.hub.session(nodeName(NODE)) === undefined,
        'the cloud sees the cut',
        15_000,
      );
      // the device keeps being polled from the edge: each new register value lands in the store
      for (const raw of [220, 231, 247]) {
        mb.set('input', 0, raw);
        await eventually(() => edgeValue() === String(raw / 10), `edge value ${String(raw / 10)}`, 20_000);
      }
      // the cloud cannot have seen any of it
      expect(await cloudValue()).toBe('21.5');

      host.restore();
      // the latest value, not an intermediate one; the edge coalesces per device (10 s status interval)
      await eventually(
        async () => (await cloudValue()) === '24.7',
        'the latest value in the cloud',
        90_000,
      ).catch(fail('after reconnect'));
      expect((await online())?.status).toBe('True');
      // nothing older arrives after it (an outbox replaying intermediate values would show here)
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await cloudValue()).toBe('24.7');

      await mb.stop();
      const off = await eventually(
        async () => {
          const c = await online();
          return c?.status === 'False' ? c : false;
        },
        'Online=False after the device stopped answering',
        60_000,
      ).catch(fail('device stopped'));
      expect(off.reason ?? '').not.toBe('');
      expect(off.message ?? '').not.toBe('');
      // the last value read stays the reported one
      expect(await cloudValue()).toBe('24.7');

      // the device answers again on its address: Online=True, and its current value
      modbus = await NetnsModbus.start(host.ns, mb.port);
      modbus.set('input', 0, 199);
      await eventually(
        async () => (await online())?.status === 'True' && (await cloudValue()) === '19.9',
        'Online=True with the new value once the device is back',
        60_000,
      ).catch(fail('device back'));
    },
  );
});
