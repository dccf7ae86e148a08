/** Architectures in Kubernetes' `kubernetes.io/arch` spelling (Go's GOARCH). */
export const ARCHITECTURES = ['amd64', 'arm64', 'arm', 'riscv64', 'ppc64le', 's390x', '386'] as const;
export type Architecture = (typeof ARCHITECTURES)[number] | 'unknown';

export type Virtualization = 'baremetal' | 'vm' | 'container';

/**
 * Hypervisor identifiers, close to systemd-detect-virt's so operators recognise them;
 * 'kvm' also covers KVM-based clouds whose DMI does not name a vendor.
 */
export type Hypervisor =
  | 'kvm'
  | 'qemu'
  | 'vmware'
  | 'virtualbox'
  | 'hyperv'
  | 'xen'
  | 'amazon'
  | 'google'
  | 'parallels'
  | 'bhyve'
  | 'unknown';

export type ContainerRuntime = 'docker' | 'podman' | 'kubernetes' | 'containerd' | 'lxc' | 'unknown';

export type AcceleratorKind = 'gpu' | 'dpu' | 'smartnic' | 'fpga' | 'npu' | 'tpu';

/** Where an accelerator was found, so an operator can check the evidence. */
export type AcceleratorSource = 'pci' | 'drm' | 'misc' | 'devfreq' | 'fpga_manager';

export interface Accelerator {
  kind: AcceleratorKind;
  /** Lower-case vendor key: nvidia, amd, intel, xilinx, arm, … */
  vendor: string;
  /** Human model name, e.g. "A100 PCIe 80GB", "Mali-G610". */
  model: string;
  /** Integrated in the SoC (no PCI function of its own). */
  integrated: boolean;
  source: AcceleratorSource;
  /** PCI address of the first function (domain:bus:device.function), for PCI devices. */
  pciAddress?: string;
  vendorId?: string;
  deviceId?: string;
  /** Extended resource this device counts towards. */
  resourceName: string;
}

export interface OsInfo {
  prettyName?: string;
  id?: string;
  versionId?: string;
}

export interface CpuInfo {
  model?: string;
  vendor?: string;
  count: number;
}

export interface VirtualizationInfo {
  kind: Virtualization;
  hypervisor?: Hypervisor;
  containerRuntime?: ContainerRuntime;
  /** The files that decided it, for logs and `tether edge hardware`. */
  evidence: string[];
}

/** The NodeSystemInfo fields discovery can know (the kubelet part adds runtime/agent versions). */
export interface NodeInfo {
  architecture: Architecture;
  operatingSystem: 'linux';
  osImage?: string;
  kernelVersion?: string;
  machineID?: string;
  systemUUID?: string;
  bootID?: string;
}

export interface HardwareReport {
  discoveredAt: Date;
  root: string;
  architecture: Architecture;
  os: OsInfo;
  kernel?: string;
  cpu: CpuInfo;
  memoryBytes: number;
  /** Board name from the device tree (SBCs), or DMI product name. */
  board?: string;
  /** SoC from the device-tree `compatible` list (e.g. rockchip,rk3588). */
  soc?: string;
  virtualization: VirtualizationInfo;
  accelerators: Accelerator[];
  nodeInfo: NodeInfo;
  /** Kubernetes quantities, ready for Node.status.capacity. */
  capacity: { cpu: string; memory: string };
  /** Node labels: `tether.dev/*` plus `kubernetes.io/arch` and `kubernetes.io/os`. */
  labels: Record<string, string>;
  /** Extended resources for Node.status.capacity/allocatable, e.g. { 'nvidia.com/gpu': 2 }. */
  extendedResources: Record<string, number>;
}
