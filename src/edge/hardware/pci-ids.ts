import type { AcceleratorKind } from './types.js';

/**
 * The PCI ids discovery recognises. Ids come from the PCI ID repository (pci.ids, Debian
 * package `pci.ids`) and, where it is silent, from the Linux drivers that bind them (dfl-pci.c
 * for Intel FPGA cards, nfp for Netronome, the Ascend driver for Huawei NPUs).
 *
 * Resource names follow the vendor's Kubernetes device plugin where one exists (nvidia.com/gpu,
 * amd.com/gpu, gpu.intel.com/i915, huawei.com/Ascend910, npu.intel.com/accel) so workloads
 * written for those plugins schedule unchanged; otherwise `tether.dev/<kind>`.
 */

export interface PciRule {
  kind: AcceleratorKind;
  vendor: string;
  vendorId: number;
  /** Device ids this rule covers; undefined = every device of the vendor (within `classPrefix`). */
  devices?: Readonly<Record<number, string>>;
  /** Class code prefix the function must have, e.g. 0x03 (display) or 0x0302 (3D controller). */
  classPrefix?: { value: number; bits: 8 | 16 };
  /** Model when the device id is not in `devices`. */
  fallbackModel: (deviceId: number) => string;
  resourceName: string | ((deviceId: number) => string);
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

const NVIDIA_GPUS: Record<number, string> = {
  0x1db4: 'Tesla V100 PCIe 16GB',
  0x1eb8: 'Tesla T4',
  0x1e36: 'Quadro RTX 6000',
  0x20b0: 'A100 SXM4 40GB',
  0x20b5: 'A100 PCIe 80GB',
  0x20f1: 'A100 PCIe 40GB',
  0x2204: 'GeForce RTX 3090',
  0x2235: 'A40',
  0x2236: 'A10',
  0x2322: 'H800 PCIe',
  0x2330: 'H100 SXM5 80GB',
  0x2331: 'H100 PCIe',
  0x2684: 'GeForce RTX 4090',
  0x26b9: 'L40S',
  0x27b8: 'L4',
};

const AMD_GPUS: Record<number, string> = {
  0x66a1: 'Instinct MI50',
  0x738c: 'Instinct MI100',
  0x740c: 'Instinct MI250X/MI250',
  0x740f: 'Instinct MI210',
  0x74a1: 'Instinct MI300X',
};

const ASCEND: Record<number, string> = {
  0xd100: 'Ascend310',
  0xd500: 'Ascend310P',
  0xd801: 'Ascend910',
  0xd802: 'Ascend910B',
};

export const PCI_RULES: readonly PciRule[] = [
  // GPUs: display class (0x03xx) only — the HDMI audio function of the same card is 0x0403.
  {
    kind: 'gpu',
    vendor: 'nvidia',
    vendorId: 0x10de,
    devices: NVIDIA_GPUS,
    classPrefix: { value: 0x03, bits: 8 },
    fallbackModel: (d) => `NVIDIA ${hex4(d)}`,
    resourceName: 'nvidia.com/gpu',
  },
  {
    kind: 'gpu',
    vendor: 'amd',
    vendorId: 0x1002,
    devices: AMD_GPUS,
    classPrefix: { value: 0x03, bits: 8 },
    fallbackModel: (d) => `AMD ${hex4(d)}`,
    resourceName: 'amd.com/gpu',
  },
  {
    kind: 'gpu',
    vendor: 'intel',
    vendorId: 0x8086,
    classPrefix: { value: 0x03, bits: 8 },
    fallbackModel: (d) => `Intel ${hex4(d)}`,
    // Intel's GPU plugin names its resource after the kernel driver; i915 is the default one.
    resourceName: 'gpu.intel.com/i915',
  },
  // DPUs: the host sees the network functions of the card's integrated ConnectX.
  {
    kind: 'dpu',
    vendor: 'nvidia',
    vendorId: 0x15b3,
    devices: {
      0xa2d2: 'BlueField',
      0xa2d6: 'BlueField-2',
      0xa2d9: 'BlueField-3 Lx',
      0xa2dc: 'BlueField-3',
      0xa2df: 'BlueField-4',
    },
    fallbackModel: (d) => `BlueField ${hex4(d)}`,
    resourceName: 'tether.dev/dpu',
  },
  {
    kind: 'dpu',
    vendor: 'amd-pensando',
    vendorId: 0x1dd8,
    devices: { 0x1002: 'Pensando DSC' },
    fallbackModel: (d) => `Pensando ${hex4(d)}`,
    resourceName: 'tether.dev/dpu',
  },
  {
    kind: 'dpu',
    vendor: 'intel',
    vendorId: 0x8086,
    devices: { 0x1452: 'IPU E2000' },
    fallbackModel: (d) => `Intel IPU ${hex4(d)}`,
    resourceName: 'tether.dev/dpu',
  },
  {
    kind: 'dpu',
    vendor: 'broadcom',
    vendorId: 0x14e4,
    devices: { 0xd802: 'Stingray BCM58802', 0xd804: 'Stingray BCM58804' },
    fallbackModel: (d) => `Stingray ${hex4(d)}`,
    resourceName: 'tether.dev/dpu',
  },
  // SmartNICs without general-purpose cores of their own.
  {
    kind: 'smartnic',
    vendor: 'netronome',
    vendorId: 0x19ee,
    devices: { 0x3800: 'NFP-3800', 0x4000: 'NFP-4000', 0x5000: 'NFP-5000', 0x6000: 'NFP-6000' },
    fallbackModel: (d) => `Netronome ${hex4(d)}`,
    resourceName: 'tether.dev/smartnic',
  },
  // FPGAs. Vendor FPGA plugins name resources after the loaded shell/bitstream, which PCI ids
  // cannot tell, so the card itself counts as tether.dev/fpga.
  {
    kind: 'fpga',
    vendor: 'xilinx',
    vendorId: 0x10ee,
    devices: {
      0x5000: 'Alveo U200',
      0x5001: 'Alveo U200',
      0x5004: 'Alveo U250',
      0x5005: 'Alveo U250',
      0x500c: 'Alveo U280',
      0x500d: 'Alveo U280',
      0x5020: 'Alveo U50',
      0x5021: 'Alveo U50',
      0x505c: 'Alveo U55C',
      0xd000: 'Alveo U200 (golden)',
      0xd004: 'Alveo U250 (golden)',
      0xd00c: 'Alveo U280 (golden)',
      0xd020: 'Alveo U50 (golden)',
    },
    fallbackModel: (d) => `Xilinx ${hex4(d)}`,
    resourceName: 'tether.dev/fpga',
  },
  {
    kind: 'fpga',
    vendor: 'intel',
    vendorId: 0x8086,
    devices: {
      0x09c4: 'PAC Arria 10 GX',
      0x0b2b: 'PAC D5005',
      0x0b30: 'PAC N3000',
      0xbcbd: 'FPGA DFL 5.x',
      0xbcc0: 'FPGA DFL 6.x',
      0xbcce: 'FPGA DFL',
    },
    fallbackModel: (d) => `Intel FPGA ${hex4(d)}`,
    resourceName: 'tether.dev/fpga',
  },
  {
    kind: 'fpga',
    vendor: 'intel',
    vendorId: 0x1172, // Altera
    fallbackModel: (d) => `Altera ${hex4(d)}`,
    resourceName: 'tether.dev/fpga',
  },
  {
    kind: 'fpga',
    vendor: 'silicom',
    vendorId: 0x1c2c,
    devices: { 0x1000: 'FPGA SmartNIC N5010', 0x1001: 'FPGA SmartNIC N5011' },
    fallbackModel: (d) => `Silicom ${hex4(d)}`,
    resourceName: 'tether.dev/fpga',
  },
  // NPUs and TPUs.
  {
    kind: 'tpu',
    vendor: 'google',
    vendorId: 0x1ac1,
    devices: { 0x089a: 'Coral Edge TPU' },
    fallbackModel: (d) => `Google ${hex4(d)}`,
    resourceName: 'tether.dev/tpu',
  },
  {
    kind: 'npu',
    vendor: 'huawei',
    vendorId: 0x19e5,
    devices: ASCEND,
    classPrefix: { value: 0x12, bits: 8 },
    fallbackModel: (d) => `Ascend ${hex4(d)}`,
    // Huawei's Ascend device plugin: one resource per chip family.
    resourceName: (d) => `huawei.com/${ASCEND[d]?.replace(/B$/u, '') ?? 'Ascend'}`,
  },
  {
    kind: 'npu',
    vendor: 'hailo',
    vendorId: 0x1e60,
    devices: { 0x2864: 'Hailo-8' },
    fallbackModel: (d) => `Hailo ${hex4(d)}`,
    resourceName: 'tether.dev/npu',
  },
  {
    kind: 'npu',
    vendor: 'intel',
    vendorId: 0x8086,
    devices: { 0x7d1d: 'NPU (Meteor Lake)', 0x643e: 'NPU (Lunar Lake)', 0xad1d: 'NPU (Arrow Lake)' },
    fallbackModel: (d) => `Intel NPU ${hex4(d)}`,
    resourceName: 'npu.intel.com/accel',
  },
];

/** The rule matching a PCI function, if any; device-specific rules win over vendor-wide ones. */
export function matchPci(vendorId: number, deviceId: number, classCode: number): PciRule | undefined {
  let vendorWide: PciRule | undefined;
  for (const rule of PCI_RULES) {
    if (rule.vendorId !== vendorId) continue;
    if (rule.classPrefix !== undefined) {
      const shift = 24 - rule.classPrefix.bits;
      if (classCode >>> shift !== rule.classPrefix.value) continue;
    }
    if (rule.devices === undefined) {
      vendorWide ??= rule;
      continue;
    }
    if (deviceId in rule.devices) return rule;
    // A class-restricted rule (GPUs) still applies to ids it does not list.
    if (rule.classPrefix !== undefined) vendorWide ??= rule;
  }
  return vendorWide;
}
