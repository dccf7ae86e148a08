import { parseKeyValue, type FsRoot } from './fsroot.js';
import { matchPci } from './pci-ids.js';
import type { Accelerator } from './types.js';

const PCI_DIR = '/sys/bus/pci/devices';

function parseHex(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number.parseInt(s.trim().replace(/^0x/iu, ''), 16);
  return Number.isNaN(n) ? undefined : n;
}

/** "0000:17:00.1" → "0000:17:00": all functions of one card share it. */
function slotOf(address: string): string {
  const dot = address.lastIndexOf('.');
  return dot < 0 ? address : address.slice(0, dot);
}

/**
 * Accelerators on the PCI bus. One card = one unit: functions of the same slot (a GPU's
 * audio function, the two ports of a BlueField, an Alveo's management and user functions)
 * count once, and SR-IOV virtual functions (they have a `physfn` link) not at all.
 */
export async function scanPci(fs: FsRoot): Promise<Accelerator[]> {
  const bySlot = new Map<string, Accelerator>();
  for (const address of await fs.list(PCI_DIR)) {
    const dir = `${PCI_DIR}/${address}`;
    if (await fs.exists(`${dir}/physfn`)) continue;
    const vendorId = parseHex(await fs.line(`${dir}/vendor`));
    const deviceId = parseHex(await fs.line(`${dir}/device`));
    const classCode = parseHex(await fs.line(`${dir}/class`));
    if (vendorId === undefined || deviceId === undefined || classCode === undefined) continue;
    const rule = matchPci(vendorId, deviceId, classCode);
    if (rule === undefined) continue;
    const slot = slotOf(address);
    if (bySlot.has(slot)) continue;
    bySlot.set(slot, {
      kind: rule.kind,
      vendor: rule.vendor,
      model: rule.devices?.[deviceId] ?? rule.fallbackModel(deviceId),
      integrated: false,
      source: 'pci',
      pciAddress: address,
      vendorId: `0x${vendorId.toString(16).padStart(4, '0')}`,
      deviceId: `0x${deviceId.toString(16).padStart(4, '0')}`,
      resourceName: typeof rule.resourceName === 'string' ? rule.resourceName : rule.resourceName(deviceId),
    });
  }
  return [...bySlot.values()];
}

/**
 * DRM drivers of integrated (SoC) GPUs. Display-only drivers (rockchip-drm, starfive, vc4's
 * KMS part, …) also create /sys/class/drm/card*, so a card counts only with a render driver here.
 */
const SOC_GPU_DRIVERS: Record<string, { vendor: string; model: string }> = {
  panfrost: { vendor: 'arm', model: 'Mali' },
  panthor: { vendor: 'arm', model: 'Mali' },
  lima: { vendor: 'arm', model: 'Mali-400/450' },
  mali: { vendor: 'arm', model: 'Mali' },
  msm: { vendor: 'qualcomm', model: 'Adreno' },
  etnaviv: { vendor: 'vivante', model: 'Vivante GC' },
  v3d: { vendor: 'broadcom', model: 'VideoCore' },
  pvrsrvkm: { vendor: 'imagination', model: 'PowerVR' },
  powervr: { vendor: 'imagination', model: 'PowerVR' },
  'tegra-drm': { vendor: 'nvidia', model: 'Tegra' },
};

/** NPUs that vendor kernels expose as DRM/accel devices. */
const SOC_NPU_DRIVERS: Record<string, { vendor: string; model: string }> = {
  rknpu: { vendor: 'rockchip', model: 'RKNPU' },
  RKNPU: { vendor: 'rockchip', model: 'RKNPU' },
  rocket: { vendor: 'rockchip', model: 'RKNPU' },
  'amlogic-npu': { vendor: 'amlogic', model: 'NPU' },
};

/** Vendor of the SoC iGPU by the SoC's device-tree compatible prefix. */
function socGpuVendor(compatible: readonly string[]): string | undefined {
  for (const c of compatible) {
    if (c.startsWith('nvidia,tegra')) return 'nvidia';
    if (/^(rockchip|amlogic|allwinner|mediatek),/u.test(c)) return 'arm';
    if (c.startsWith('qcom,')) return 'qualcomm';
    if (c.startsWith('brcm,bcm27') || c.startsWith('brcm,bcm28')) return 'broadcom';
    if (c.startsWith('starfive,') || c.startsWith('ti,')) return 'imagination';
  }
  return undefined;
}

/**
 * Integrated accelerators of SoC boards, from sysfs: DRM render drivers, Arm's kbase
 * (`/sys/class/misc/mali0`, whose `gpuinfo` names the exact Mali), devfreq domains named
 * `*.gpu` / `*.npu` (Tegra and Rockchip register them), and FPGA managers (Zynq, Agilex SoC).
 * A SoC has one GPU, so the sources are merged into one entry.
 */
export async function scanSoc(fs: FsRoot, compatible: readonly string[]): Promise<Accelerator[]> {
  const out: Accelerator[] = [];
  let gpu: Accelerator | undefined;
  let npu: Accelerator | undefined;

  for (const card of await fs.list('/sys/class/drm')) {
    if (!/^card\d+$/u.test(card)) continue;
    const uevent = parseKeyValue(await fs.text(`/sys/class/drm/${card}/device/uevent`));
    if (uevent.has('PCI_SLOT_NAME')) continue; // discrete: the PCI scan owns it
    const driver = uevent.get('DRIVER') ?? '';
    const g = SOC_GPU_DRIVERS[driver];
    if (g !== undefined && gpu === undefined) {
      gpu = {
        kind: 'gpu',
        vendor: g.vendor,
        model: g.model,
        integrated: true,
        source: 'drm',
        resourceName: '',
      };
    }
    const n = SOC_NPU_DRIVERS[driver];
    if (n !== undefined && npu === undefined) {
      npu = {
        kind: 'npu',
        vendor: n.vendor,
        model: n.model,
        integrated: true,
        source: 'drm',
        resourceName: '',
      };
    }
  }

  const maliInfo = await fs.line('/sys/class/misc/mali0/device/gpuinfo');
  if (maliInfo !== undefined || (await fs.exists('/sys/class/misc/mali0'))) {
    // gpuinfo: "Mali-G610 4 cores r0p0 0xA867" — the first word is the model.
    const model = maliInfo?.split(/\s+/u)[0] ?? 'Mali';
    if (gpu === undefined) {
      gpu = { kind: 'gpu', vendor: 'arm', model, integrated: true, source: 'misc', resourceName: '' };
    } else if (gpu.vendor === 'arm' && maliInfo !== undefined) {
      gpu.model = model;
    }
  }

  for (const dom of await fs.list('/sys/class/devfreq')) {
    // Tegra: 17000000.ga10b (Orin), 57000000.gpu (Nano); Rockchip: fb000000.gpu, fdab0000.npu.
    if (/\.(gpu|ga10b|gv11b|gp10b|gm20b)$/u.test(dom) && gpu === undefined) {
      const vendor = socGpuVendor(compatible) ?? 'unknown';
      const model = vendor === 'nvidia' ? `Tegra ${dom.split('.')[1] ?? ''}`.trim() : 'GPU';
      gpu = { kind: 'gpu', vendor, model, integrated: true, source: 'devfreq', resourceName: '' };
    }
    if (/\.npu$/u.test(dom) && npu === undefined) {
      const vendor = compatible.some((c) => c.startsWith('rockchip,')) ? 'rockchip' : 'unknown';
      npu = {
        kind: 'npu',
        vendor,
        model: vendor === 'rockchip' ? 'RKNPU' : 'NPU',
        integrated: true,
        source: 'devfreq',
        resourceName: '',
      };
    }
  }

  if (gpu !== undefined) {
    // The NVIDIA device plugin serves Tegra iGPUs as nvidia.com/gpu too; others have no plugin.
    gpu.resourceName = gpu.vendor === 'nvidia' ? 'nvidia.com/gpu' : 'tether.dev/igpu';
    out.push(gpu);
  }
  if (npu !== undefined) {
    npu.resourceName = 'tether.dev/npu';
    out.push(npu);
  }

  for (const mgr of await fs.list('/sys/class/fpga_manager')) {
    const name = (await fs.line(`/sys/class/fpga_manager/${mgr}/name`)) ?? 'FPGA';
    const vendor = /xilinx|zynq|versal/iu.test(name)
      ? 'xilinx'
      : /altera|intel|agilex|stratix/iu.test(name)
        ? 'intel'
        : 'unknown';
    out.push({
      kind: 'fpga',
      vendor,
      model: name.replace(/\s*FPGA Manager$/iu, ''),
      integrated: true,
      source: 'fpga_manager',
      resourceName: 'tether.dev/fpga',
    });
  }
  return out;
}
