/** The device CRDs under a real API server (the embedded control plane, or upstream via TETHER_CONTROL_PLANE) and the real kubectl. */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../support/controlplane.js';

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane();
});
afterAll(async () => {
  await cp.stop();
});

// async: the embedded API server runs in this process, so a blocking spawnSync would starve it
function kubectl(args: string[], input?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', cp.kubeconfigPath, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? -1, out, err });
    });
    child.stdin.end(input ?? '');
  });
}

const MODEL = `
apiVersion: devices.tether.dev/v1alpha1
kind: DeviceModel
metadata: { name: thermostat, namespace: default }
spec:
  properties:
    - { name: temperature, type: float, unit: C }
    - { name: setpoint, type: int, accessMode: ReadWrite, minimum: 5, maximum: 35 }
`;
const DEVICE = `
apiVersion: devices.tether.dev/v1alpha1
kind: Device
metadata: { name: thermo-1, namespace: default }
spec:
  nodeName: edge-1
  deviceModelRef: { name: thermostat }
  protocol: { type: modbusTCP, modbusTCP: { host: 127.0.0.1 } }
  properties:
    - name: temperature
      visitor: { modbus: { register: InputRegister, address: 0, dataType: int16, scale: 0.1 } }
    - name: setpoint
      desired: { value: "21" }
      visitor: { modbus: { register: HoldingRegister, address: 10 } }
`;

describe('devices/crd with kubectl', () => {
  it('devices/crd — kubectl applies the CRDs, a model and a device; defaults are filled; get shows the printer columns', async () => {
    const crd = await kubectl(['apply', '-f', 'deploy/crds/devices.tether.dev.yaml']);
    expect(crd.err).toBe('');
    const est = await kubectl([
      'wait',
      '--for=condition=Established',
      'crd/devices.devices.tether.dev',
      '--timeout=30s',
    ]);
    expect(est.code).toBe(0);
    expect((await kubectl(['apply', '-f', '-'], MODEL)).code).toBe(0);
    const applied = await kubectl(['apply', '-f', '-'], DEVICE);
    expect(applied.err).toBe('');
    const obj = JSON.parse((await kubectl(['get', 'device', 'thermo-1', '-o', 'json'])).out) as {
      spec: { collectIntervalMs: number; protocol: { modbusTCP: { port: number } } };
    };
    expect(obj.spec.collectIntervalMs).toBe(5000);
    expect(obj.spec.protocol.modbusTCP.port).toBe(502);
    const patched = await kubectl([
      'patch',
      'device',
      'thermo-1',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          conditions: [{ type: 'Online', status: 'True', reason: 'Reachable' }],
          properties: [
            { name: 'temperature', reported: { value: '21.5', timestamp: '2026-11-26T18:00:00Z' } },
          ],
        },
      }),
    ]);
    expect(patched.err).toBe('');
    const table = (await kubectl(['get', 'devices'])).out.split('\n');
    expect(table[0]).toMatch(/^NAME\s+NODE\s+MODEL\s+PROTOCOL\s+ONLINE\s+SYNCED\s+AGE/);
    expect(table[1]).toMatch(/^thermo-1\s+edge-1\s+thermostat\s+modbusTCP\s+True\s+/);
  });

  it('devices/crd — the API server refuses a device with a bad enum or an out-of-range field', async () => {
    const bad = await kubectl(
      ['apply', '-f', '-'],
      DEVICE.replace('type: modbusTCP', 'type: zigbee').replace('thermo-1', 'thermo-bad'),
    );
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('spec.protocol.type');
    const bad2 = await kubectl(
      ['apply', '-f', '-'],
      DEVICE.replace('address: 10', 'address: 70000').replace('thermo-1', 'thermo-bad2'),
    );
    expect(bad2.code).not.toBe(0);
    expect(bad2.err).toContain('address');
  });
});
