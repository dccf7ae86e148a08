import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LABEL_VALUE_RE,
  archFromMachine,
  discoverHardware,
  matchPci,
  sanitizeLabelValue,
} from '../../../src/edge/hardware/index.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/hw');
const fixture = (name: string): string => path.join(FIXTURES, name);
const NOW = new Date('2026-11-26T18:00:00Z');

function expectValidLabels(labels: Record<string, string>): void {
  for (const [k, v] of Object.entries(labels)) {
    expect(v, k).toMatch(LABEL_VALUE_RE);
    expect(v.length, k).toBeLessThanOrEqual(63);
  }
}

describe('hardware discovery on fixtures', () => {
  it('hardware — x86 KVM guest: amd64, vm/kvm, no accelerators (QEMU VGA is not a GPU)', async () => {
    const r = await discoverHardware({ root: fixture('x86-vm-kvm'), now: () => NOW });
    expect(r.discoveredAt).toEqual(NOW);
    expect(r.labels).toEqual({
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/os': 'linux',
      'tether.dev/arch': 'amd64',
      'tether.dev/os.id': 'ubuntu',
      'tether.dev/os.version': '22.04',
      'tether.dev/kernel': '5.15.0-122-generic',
      'tether.dev/cpu-model': 'Intel-Xeon-Processor-Icelake',
      'tether.dev/cpu-vendor': 'intel',
      'tether.dev/board': 'Standard-PC-Q35-ICH9-2009',
      'tether.dev/virtualization': 'vm',
      'tether.dev/hypervisor': 'kvm',
    });
    expect(r.extendedResources).toEqual({});
    expect(r.cpu.count).toBe(4);
    expect(r.memoryBytes).toBe(8140800 * 1024);
    expect(r.capacity).toEqual({ cpu: '4', memory: '8140800Ki' });
    expect(r.nodeInfo).toEqual({
      architecture: 'amd64',
      operatingSystem: 'linux',
      osImage: 'Ubuntu 22.04.5 LTS',
      kernelVersion: '5.15.0-122-generic',
      machineID: '3f6b2c9d8e7a41b0a5c4d3e2f1a0b9c8',
      systemUUID: '8e1c0a2b-4d5f-4a6b-9c7d-0e1f2a3b4c5d',
      bootID: '6c1d1a58-3f8e-4b0c-9a3b-52b5a0f6d2e1',
    });
    expect(r.virtualization.evidence.join(' ')).toContain('QEMU');
  });

  it('hardware — bare-metal server: 2 NVIDIA GPUs, 1 BlueField-2 DPU, 1 Alveo FPGA, one per card', async () => {
    const r = await discoverHardware({ root: fixture('x86-server-accel'), now: () => NOW });
    expect(r.extendedResources).toEqual({ 'nvidia.com/gpu': 2, 'tether.dev/dpu': 1, 'tether.dev/fpga': 1 });
    expect(r.labels).toMatchObject({
      'kubernetes.io/arch': 'amd64',
      'tether.dev/virtualization': 'baremetal',
      'tether.dev/cpu-model': 'Intel-Xeon-Gold-6338-CPU-2.00GHz',
      'tether.dev/board': 'PowerEdge-R750xa',
      'tether.dev/os.id': 'rocky',
      'tether.dev/gpu': 'true',
      'tether.dev/gpu.count': '2',
      'tether.dev/gpu.nvidia': 'true',
      'tether.dev/gpu.model': 'A100-PCIe-80GB',
      'tether.dev/dpu': 'true',
      'tether.dev/dpu.count': '1',
      'tether.dev/dpu.nvidia': 'true',
      'tether.dev/dpu.model': 'BlueField-2',
      'tether.dev/fpga': 'true',
      'tether.dev/fpga.xilinx': 'true',
      'tether.dev/fpga.model': 'Alveo-U250',
    });
    expect(r.labels['tether.dev/hypervisor']).toBeUndefined();
    expect(r.labels['tether.dev/smartnic']).toBeUndefined();
    expect(r.accelerators.map((a) => a.pciAddress)).toEqual([
      '0000:17:00.0',
      '0000:31:00.0',
      '0000:4b:00.0',
      '0000:ca:00.0',
    ]);
    expect(r.cpu.count).toBe(8);
    expect(r.nodeInfo.systemUUID).toBe('4c4c4544-0042-3510-8052-b4c04f4b4e33');
    expectValidLabels(r.labels);
  });

  it('hardware — arm64 RK3588 board: big.LITTLE cores, Mali-G610 iGPU and RKNPU from sysfs', async () => {
    const r = await discoverHardware({ root: fixture('arm64-board-igpu'), now: () => NOW });
    expect(r.architecture).toBe('arm64');
    expect(r.cpu).toEqual({ model: 'Cortex-A55 + Cortex-A76', vendor: 'arm', count: 8 });
    expect(r.labels).toMatchObject({
      'kubernetes.io/arch': 'arm64',
      'tether.dev/arch': 'arm64',
      'tether.dev/board': 'Radxa-ROCK-5B',
      'tether.dev/soc': 'rockchip-rk3588',
      'tether.dev/cpu-model': 'Cortex-A55-Cortex-A76',
      'tether.dev/virtualization': 'baremetal',
      'tether.dev/gpu': 'true',
      'tether.dev/gpu.count': '1',
      'tether.dev/gpu.arm': 'true',
      'tether.dev/gpu.integrated': 'true',
      'tether.dev/gpu.model': 'Mali-G610',
      'tether.dev/npu': 'true',
      'tether.dev/npu.rockchip': 'true',
    });
    // rockchip-drm is a display controller: it must not add a second GPU.
    expect(r.extendedResources).toEqual({ 'tether.dev/igpu': 1, 'tether.dev/npu': 1 });
    expect(r.nodeInfo.kernelVersion).toBe('6.1.43-15-rk2312');
    expect(r.nodeInfo.systemUUID).toBeUndefined();
  });

  it('hardware — riscv64 board: arch from cpuinfo isa (no kernel/arch file), U74 model, display-only DRM ignored', async () => {
    const r = await discoverHardware({ root: fixture('riscv64-board'), now: () => NOW });
    expect(r.architecture).toBe('riscv64');
    expect(r.labels).toEqual({
      'kubernetes.io/arch': 'riscv64',
      'kubernetes.io/os': 'linux',
      'tether.dev/arch': 'riscv64',
      'tether.dev/os.id': 'debian',
      'tether.dev/kernel': '6.6.20-starfive',
      'tether.dev/cpu-model': 'sifive-u74-mc',
      'tether.dev/cpu-vendor': 'sifive',
      'tether.dev/board': 'StarFive-VisionFive-2-v1.3B',
      'tether.dev/soc': 'starfive-jh7110',
      'tether.dev/virtualization': 'baremetal',
    });
    expect(r.extendedResources).toEqual({});
    expect(r.cpu.count).toBe(4);
    expect(r.nodeInfo.osImage).toBe('Debian GNU/Linux trixie/sid');
  });

  it('hardware — container: kubernetes runtime wins over /.dockerenv, EC2 hypervisor still reported', async () => {
    const r = await discoverHardware({ root: fixture('container'), now: () => NOW });
    expect(r.virtualization.kind).toBe('container');
    expect(r.labels).toMatchObject({
      'tether.dev/virtualization': 'container',
      'tether.dev/container-runtime': 'kubernetes',
      'tether.dev/hypervisor': 'amazon',
      'tether.dev/cpu-model': 'AMD-EPYC-7R13-Processor',
      'tether.dev/cpu-vendor': 'amd',
      'tether.dev/os.id': 'alpine',
    });
    expect(r.nodeInfo.machineID).toBeUndefined();
    expect(r.extendedResources).toEqual({});
    expect(r.virtualization.evidence).toContain('/.dockerenv');
  });

  it('hardware — every fixture yields only valid label values', async () => {
    for (const name of ['x86-vm-kvm', 'x86-server-accel', 'arm64-board-igpu', 'riscv64-board', 'container']) {
      const r = await discoverHardware({ root: fixture(name) });
      expectValidLabels(r.labels);
      expect(
        Object.keys(r.labels).every((k) => k.startsWith('tether.dev/') || k.startsWith('kubernetes.io/')),
      ).toBe(true);
    }
  });
});

describe('hardware discovery on synthetic trees', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function tree(files: Record<string, string>): Promise<string> {
    dir = await mkdtemp(path.join(tmpdir(), 'tether-hw-'));
    for (const [p, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
      await writeFile(path.join(dir, p), content);
    }
    return dir;
  }

  it('hardware — an empty root gives unknown arch, zero capacity and only the os label', async () => {
    const r = await discoverHardware({ root: await tree({}) });
    expect(r.architecture).toBe('unknown');
    expect(r.labels).toEqual({ 'kubernetes.io/os': 'linux', 'tether.dev/virtualization': 'baremetal' });
    expect(r.capacity).toEqual({ cpu: '0', memory: '0Ki' });
  });

  it('hardware — GPU audio functions, VFs and non-display classes do not count', async () => {
    const pci = (addr: string, v: string, d: string, c: string): Record<string, string> => ({
      [`sys/bus/pci/devices/${addr}/vendor`]: `${v}\n`,
      [`sys/bus/pci/devices/${addr}/device`]: `${d}\n`,
      [`sys/bus/pci/devices/${addr}/class`]: `${c}\n`,
    });
    const root = await tree({
      ...pci('0000:01:00.0', '0x10de', '0x2684', '0x030000'), // RTX 4090
      ...pci('0000:01:00.1', '0x10de', '0x22ba', '0x040300'), // its HDMI audio
      ...pci('0000:02:00.0', '0x1002', '0x740f', '0x038000'), // Instinct MI210
      ...pci('0000:03:00.0', '0x8086', '0x56a0', '0x030000'), // Intel Arc A770
      ...pci('0000:04:00.0', '0x19e5', '0xd801', '0x120000'), // Ascend 910
      ...pci('0000:04:00.1', '0x19e5', '0x1822', '0x020000'), // Huawei NIC: not an NPU
      ...pci('0000:05:00.0', '0x1ac1', '0x089a', '0x088000'), // Coral Edge TPU
      ...pci('0000:06:00.0', '0x19ee', '0x4000', '0x020000'), // Netronome NFP-4000
      ...pci('0000:07:00.0', '0x1dd8', '0x1002', '0x020000'), // Pensando DSC
      ...pci('0000:08:00.0', '0x8086', '0x0b2b', '0x120000'), // Intel PAC D5005
      'sys/class/fpga_manager/fpga0/name': 'Xilinx ZynqMP FPGA Manager\n',
    });
    const r = await discoverHardware({ root });
    expect(r.extendedResources).toEqual({
      'nvidia.com/gpu': 1,
      'amd.com/gpu': 1,
      'gpu.intel.com/i915': 1,
      'huawei.com/Ascend910': 1,
      'tether.dev/tpu': 1,
      'tether.dev/smartnic': 1,
      'tether.dev/dpu': 1,
      'tether.dev/fpga': 2,
    });
    expect(r.labels).toMatchObject({
      'tether.dev/gpu.count': '3',
      'tether.dev/gpu.nvidia': 'true',
      'tether.dev/gpu.amd': 'true',
      'tether.dev/gpu.intel': 'true',
      'tether.dev/gpu.model': 'GeForce-RTX-4090',
      'tether.dev/fpga.intel': 'true',
      'tether.dev/fpga.xilinx': 'true',
      'tether.dev/fpga.integrated': 'true',
      'tether.dev/dpu.amd-pensando': 'true',
      'tether.dev/npu.huawei': 'true',
      'tether.dev/tpu.model': 'Coral-Edge-TPU',
    });
  });

  it('hardware — Jetson-like board: Tegra iGPU from devfreq counts as nvidia.com/gpu', async () => {
    const root = await tree({
      'proc/sys/kernel/arch': 'aarch64\n',
      'proc/device-tree/model': 'NVIDIA Jetson AGX Orin Developer Kit\0',
      'proc/device-tree/compatible': 'nvidia,p3737-0000+p3701-0005\0nvidia,p3701-0005\0nvidia,tegra234\0',
      'sys/class/devfreq/17000000.ga10b/governor': 'nvhost_podgov\n',
    });
    const r = await discoverHardware({ root });
    expect(r.extendedResources).toEqual({ 'nvidia.com/gpu': 1 });
    expect(r.labels).toMatchObject({
      'tether.dev/soc': 'nvidia-tegra234',
      'tether.dev/gpu.nvidia': 'true',
      'tether.dev/gpu.model': 'Tegra-ga10b',
    });
  });

  it('hardware — a leftover /.dockerenv on a block-device root is not a container', async () => {
    const root = await tree({
      '.dockerenv': '',
      'proc/1/cgroup': '9:name=systemd:/\n8:pids:/\n',
      'proc/1/mountinfo': '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n',
      'proc/cpuinfo': 'processor\t: 0\nflags\t\t: fpu lm hypervisor\n',
      'sys/devices/system/clocksource/clocksource0/available_clocksource': 'tsc kvm-clock\n',
    });
    const r = await discoverHardware({ root });
    expect(r.virtualization.kind).toBe('vm');
    expect(r.labels['tether.dev/hypervisor']).toBe('kvm');
    expect(r.virtualization.evidence[0]).toBe(
      '/.dockerenv ignored: root is ext4 and PID 1 is not in a container cgroup',
    );
    await writeFile(
      path.join(root, 'proc/1/mountinfo'),
      '27 1 0:33 / / rw - overlay overlay rw,lowerdir=/a\n',
    );
    expect((await discoverHardware({ root })).labels['tether.dev/container-runtime']).toBe('docker');
  });

  it('hardware — EC2 .metal instance is bare metal; VMware and Hyper-V DMI are VMs', async () => {
    const cases: [string, string, string | undefined][] = [
      ['Amazon EC2', 'm5.metal', undefined],
      ['VMware, Inc.', 'VMware Virtual Platform', 'vmware'],
      ['Microsoft Corporation', 'Virtual Machine', 'hyperv'],
      ['innotek GmbH', 'VirtualBox', 'virtualbox'],
      ['QEMU', 'Standard PC (i440FX + PIIX, 1996)', 'qemu'],
      ['Google', 'Google Compute Engine', 'google'],
      ['Google', 'Eve', undefined], // a Chromebook
      ['Microsoft Corporation', 'Surface Pro 9', undefined],
    ];
    for (const [vendor, product, hv] of cases) {
      const root = await tree({
        'sys/class/dmi/id/sys_vendor': `${vendor}\n`,
        'sys/class/dmi/id/product_name': product,
      });
      const r = await discoverHardware({ root });
      expect(r.labels['tether.dev/hypervisor'], vendor).toBe(hv);
      expect(r.virtualization.kind, vendor).toBe(hv === undefined ? 'baremetal' : 'vm');
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('hardware label helpers', () => {
  it('hardware — label values are sanitised to ≤63 chars of [A-Za-z0-9._-] with alphanumeric ends', () => {
    expect(sanitizeLabelValue('Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz')).toBe(
      'Intel-Xeon-Gold-6338-CPU-2.00GHz',
    );
    expect(sanitizeLabelValue('sifive,u74-mc')).toBe('sifive-u74-mc');
    expect(sanitizeLabelValue('  --weird__name--  ')).toBe('weird__name');
    expect(sanitizeLabelValue('AMD Ryzen™ 7 5800X')).toBe('AMD-Ryzen-7-5800X');
    expect(sanitizeLabelValue('')).toBeUndefined();
    expect(sanitizeLabelValue('®™ ()')).toBeUndefined();
    expect(sanitizeLabelValue('日本語')).toBeUndefined();
    const long = `${'a'.repeat(62)}-bcd`;
    expect(sanitizeLabelValue(long)).toBe('a'.repeat(62));
    const exactly63 = 'x'.repeat(63);
    expect(sanitizeLabelValue(exactly63)).toBe(exactly63);
    expect(sanitizeLabelValue('a'.repeat(100))).toHaveLength(63);
  });

  it('hardware — label sanitising is total: any string gives a valid value or nothing', () => {
    const samples = [
      '',
      '-',
      '.a.',
      'a'.repeat(64) + '.',
      'x\ny',
      'CPU @ 3.0GHz (TM)',
      '\0\0model\0',
      'A'.repeat(63) + 'é',
    ];
    for (const s of samples) {
      const v = sanitizeLabelValue(s);
      if (v !== undefined) {
        expect(v).toMatch(LABEL_VALUE_RE);
        expect(v.length).toBeGreaterThan(0);
        expect(v.length).toBeLessThanOrEqual(63);
      }
    }
  });

  it('hardware — machine names map to Kubernetes architectures', () => {
    expect(archFromMachine('x86_64')).toBe('amd64');
    expect(archFromMachine('aarch64')).toBe('arm64');
    expect(archFromMachine('armv7l')).toBe('arm');
    expect(archFromMachine('riscv64')).toBe('riscv64');
    expect(archFromMachine('ppc64le')).toBe('ppc64le');
    expect(archFromMachine('s390x')).toBe('s390x');
    expect(archFromMachine('i686')).toBe('386');
    expect(archFromMachine('mips')).toBe('unknown');
  });

  it('hardware — PCI matching prefers device rules and respects class filters', () => {
    expect(matchPci(0x10de, 0x20b5, 0x030200)?.resourceName).toBe('nvidia.com/gpu');
    expect(matchPci(0x10de, 0x10f0, 0x040300)).toBeUndefined(); // NVIDIA HDMI audio
    expect(matchPci(0x8086, 0x0b2b, 0x120000)?.kind).toBe('fpga');
    expect(matchPci(0x8086, 0x1572, 0x020000)).toBeUndefined(); // X710 NIC
    expect(matchPci(0x15b3, 0x101d, 0x020000)).toBeUndefined(); // ConnectX-6 Dx NIC
    expect(matchPci(0x15b3, 0xa2dc, 0x020000)?.kind).toBe('dpu');
  });
});

describe('hardware discovery on this machine', () => {
  it('hardware — real root: amd64, memory and CPUs > 0, valid labels', async () => {
    const r = await discoverHardware({ root: '/' });
    expect(r.architecture).toBe('amd64');
    expect(r.labels['kubernetes.io/arch']).toBe('amd64');
    expect(r.memoryBytes).toBeGreaterThan(0);
    expect(r.cpu.count).toBeGreaterThan(0);
    expect(r.nodeInfo.kernelVersion).toMatch(/^\d+\.\d+/u);
    expectValidLabels(r.labels);
  });
});

describe('hardware label sanitising (property)', () => {
  it('hardware — any string sanitises to a valid label value or to nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
        const v = sanitizeLabelValue(s);
        if (v === undefined) return;
        expect(v).toMatch(LABEL_VALUE_RE);
        expect(v.length).toBeGreaterThan(0);
        expect(v.length).toBeLessThanOrEqual(63);
      }),
    );
  });
});
