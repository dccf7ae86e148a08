import type { FsRoot } from './fsroot.js';
import type { ContainerRuntime, Hypervisor, VirtualizationInfo } from './types.js';

/**
 * DMI vendor/product patterns, checked in order (systemd's detect-virt table is the model).
 * The first match on either sys_vendor or product_name decides.
 */
const DMI_HYPERVISORS: readonly (readonly [RegExp, Hypervisor])[] = [
  [/^KVM$|\bKVM\b/u, 'kvm'],
  [/OpenStack|Alibaba Cloud|Tencent Cloud|Hetzner|DigitalOcean|Scaleway|Linode/u, 'kvm'],
  [/^Amazon EC2$/u, 'amazon'],
  // Chromebooks also say "Google" in sys_vendor: only GCE's product name counts.
  [/^Google Compute Engine$/u, 'google'],
  [/VMware/u, 'vmware'],
  [/VirtualBox|innotek GmbH/u, 'virtualbox'],
  // Surface laptops say "Microsoft Corporation" too: Hyper-V guests are "Virtual Machine".
  [/^Virtual Machine$/u, 'hyperv'],
  [/^Xen$|HVM domU/u, 'xen'],
  [/Parallels/u, 'parallels'],
  [/BHYVE/u, 'bhyve'],
  [/^QEMU$|^Bochs$/u, 'qemu'],
];

function containerFromCgroup(text: string | undefined): ContainerRuntime | undefined {
  if (text === undefined) return undefined;
  if (/kubepods/u.test(text)) return 'kubernetes';
  if (/\/docker[/-]/u.test(text)) return 'docker';
  if (/libpod/u.test(text)) return 'podman';
  if (/containerd|cri-containerd/u.test(text)) return 'containerd';
  if (/\/lxc[/.]|lxc\.payload/u.test(text)) return 'lxc';
  return undefined;
}

function containerFromEnviron(text: string | undefined): ContainerRuntime | undefined {
  if (text === undefined) return undefined;
  for (const entry of text.split('\0')) {
    if (!entry.startsWith('container=')) continue;
    const v = entry.slice('container='.length);
    if (v === 'docker' || v === 'podman' || v === 'lxc') return v;
    if (v === 'oci' || v === 'containerd') return 'containerd';
    return 'unknown';
  }
  return undefined;
}

/** Root filesystems container runtimes give their containers. */
const CONTAINER_ROOT_FS = new Set([
  'overlay',
  'aufs',
  'fuse.fuse-overlayfs',
  'tmpfs',
  'shiftfs',
  'zfs',
  'btrfs',
]);

/** Filesystem type of "/" from a mountinfo(5) text: fields after " - " are type, source, options. */
export function rootFsType(mountinfo: string | undefined): string | undefined {
  if (mountinfo === undefined) return undefined;
  let type: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields[4] !== '/') continue;
    const sep = fields.indexOf('-', 6);
    if (sep > 0) type = fields[sep + 1]; // the last mount on "/" is the visible one
  }
  return type;
}

/**
 * Bare metal, VM or container. A container wins (it is what the workload sees); the
 * hypervisor underneath is still reported when the host's DMI/cpuinfo show one.
 */
export async function detectVirtualization(fs: FsRoot, cpuFlags: string): Promise<VirtualizationInfo> {
  const evidence: string[] = [];

  let runtime: ContainerRuntime | undefined;
  const fromEnv = containerFromEnviron(await fs.text('/proc/1/environ'));
  if (fromEnv !== undefined) {
    runtime = fromEnv;
    evidence.push('/proc/1/environ container=');
  }
  const fromCgroup = containerFromCgroup(await fs.text('/proc/1/cgroup'));
  if (fromCgroup !== undefined) {
    // Kubernetes is the more useful answer than the runtime underneath it.
    runtime = runtime === undefined || fromCgroup === 'kubernetes' ? fromCgroup : runtime;
    evidence.push(`/proc/1/cgroup ${fromCgroup}`);
  }
  const marker = (await fs.exists('/.dockerenv'))
    ? { file: '/.dockerenv', runtime: 'docker' as const }
    : (await fs.exists('/run/.containerenv'))
      ? { file: '/run/.containerenv', runtime: 'podman' as const }
      : undefined;
  if (marker !== undefined) {
    // Marker files survive when a container image is turned into a VM disk (this is how many
    // CI VMs are built), so a marker on a block-device root with nothing else pointing to a
    // container is a leftover, not evidence.
    const rootFs = rootFsType(await fs.text('/proc/1/mountinfo'));
    const leftover = runtime === undefined && rootFs !== undefined && !CONTAINER_ROOT_FS.has(rootFs);
    if (leftover) {
      evidence.push(`${marker.file} ignored: root is ${rootFs} and PID 1 is not in a container cgroup`);
    } else {
      runtime ??= marker.runtime;
      evidence.push(marker.file);
    }
  }

  const hypervisor = await detectHypervisor(fs, cpuFlags, evidence);
  if (runtime !== undefined) {
    const info: VirtualizationInfo = { kind: 'container', containerRuntime: runtime, evidence };
    if (hypervisor !== undefined) info.hypervisor = hypervisor;
    return info;
  }
  if (hypervisor !== undefined) return { kind: 'vm', hypervisor, evidence };
  return { kind: 'baremetal', evidence };
}

async function detectHypervisor(
  fs: FsRoot,
  cpuFlags: string,
  evidence: string[],
): Promise<Hypervisor | undefined> {
  const vendor = await fs.line('/sys/class/dmi/id/sys_vendor');
  const product = await fs.line('/sys/class/dmi/id/product_name');
  // EC2 bare-metal instances keep the Amazon DMI vendor; their product name ends in ".metal".
  if (product?.endsWith('.metal') === true) {
    evidence.push(`dmi product_name ${product}`);
    return undefined;
  }
  const kvmClock = (await fs.line('/sys/devices/system/clocksource/clocksource0/available_clocksource'))
    ?.split(/\s+/u)
    .includes('kvm-clock');
  for (const field of [vendor, product]) {
    if (field === undefined) continue;
    for (const [re, hv] of DMI_HYPERVISORS) {
      if (!re.test(field)) continue;
      evidence.push(`dmi ${field}`);
      // QEMU's DMI does not say whether KVM accelerates it; the paravirtual clock does.
      return hv === 'qemu' && kvmClock === true ? 'kvm' : hv;
    }
  }
  if ((await fs.list('/sys/bus/vmbus/devices')).length > 0) {
    evidence.push('/sys/bus/vmbus devices');
    return 'hyperv';
  }
  const xen = await fs.line('/sys/hypervisor/type');
  if (xen !== undefined) {
    evidence.push(`/sys/hypervisor/type ${xen}`);
    return xen === 'xen' ? 'xen' : 'unknown';
  }
  const dtCompat = await fs.nulList('/proc/device-tree/compatible');
  if (dtCompat.includes('linux,dummy-virt')) {
    evidence.push('device-tree linux,dummy-virt');
    return kvmClock === true ? 'kvm' : 'qemu';
  }
  if ((await fs.nulList('/proc/device-tree/hypervisor/compatible')).some((c) => c.startsWith('xen'))) {
    evidence.push('device-tree hypervisor xen');
    return 'xen';
  }
  if (/\bhypervisor\b/u.test(cpuFlags)) {
    evidence.push('cpuinfo flag hypervisor');
    if (kvmClock === true) {
      evidence.push('clocksource kvm-clock');
      return 'kvm';
    }
    return 'unknown';
  }
  if (kvmClock === true) {
    evidence.push('clocksource kvm-clock');
    return 'kvm';
  }
  return undefined;
}
