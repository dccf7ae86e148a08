import { scanPci, scanSoc } from './accelerators.js';
import { FsRoot } from './fsroot.js';
import { buildExtendedResources, buildLabels } from './labels.js';
import {
  detectArchitecture,
  detectBoard,
  detectCpu,
  detectMemoryBytes,
  detectOs,
  parseCpuinfo,
} from './platform.js';
import type { HardwareReport, NodeInfo } from './types.js';
import { detectVirtualization } from './virt.js';

export interface DiscoverOptions {
  /** '/' on a real host, or a fixture tree laid out like one. */
  root: string;
  now?: () => Date;
}

/**
 * What this machine is and carries (DESIGN §6, issue 6): reads only files under `root`
 * (procfs, sysfs, /etc), never runs a command, and never fails for a missing file — an
 * unknown field is left out instead.
 */
export async function discoverHardware(opts: DiscoverOptions): Promise<HardwareReport> {
  const fs = new FsRoot(opts.root);
  const stanzas = parseCpuinfo(await fs.text('/proc/cpuinfo'));
  const cpuFlags = stanzas.find((s) => s.has('flags'))?.get('flags') ?? '';

  const [architecture, os, kernel, cpu, memoryBytes, dt, virtualization] = await Promise.all([
    detectArchitecture(fs, stanzas),
    detectOs(fs),
    fs.line('/proc/sys/kernel/osrelease'),
    detectCpu(fs, stanzas),
    detectMemoryBytes(fs),
    detectBoard(fs),
    detectVirtualization(fs, cpuFlags),
  ]);
  const accelerators = [...(await scanPci(fs)), ...(await scanSoc(fs, dt.compatible))];

  const nodeInfo: NodeInfo = { architecture, operatingSystem: 'linux' };
  if (os.prettyName !== undefined) nodeInfo.osImage = os.prettyName;
  if (kernel !== undefined) nodeInfo.kernelVersion = kernel;
  const machineID = await fs.line('/etc/machine-id');
  if (machineID !== undefined) nodeInfo.machineID = machineID;
  const systemUUID = await fs.line('/sys/class/dmi/id/product_uuid');
  if (systemUUID !== undefined) nodeInfo.systemUUID = systemUUID.toLowerCase();
  const bootID = await fs.line('/proc/sys/kernel/random/boot_id');
  if (bootID !== undefined) nodeInfo.bootID = bootID;

  const report: HardwareReport = {
    discoveredAt: (opts.now ?? (() => new Date()))(),
    root: opts.root,
    architecture,
    os,
    cpu,
    memoryBytes,
    virtualization,
    accelerators,
    nodeInfo,
    // Kubernetes quantities: whole CPUs, memory in Ki as the kubelet reports it.
    capacity: { cpu: String(cpu.count), memory: `${Math.floor(memoryBytes / 1024)}Ki` },
    labels: {},
    extendedResources: buildExtendedResources(accelerators),
  };
  if (kernel !== undefined) report.kernel = kernel;
  const board = dt.board ?? (await fs.line('/sys/class/dmi/id/product_name'));
  if (board !== undefined) report.board = board;
  if (dt.soc !== undefined) report.soc = dt.soc;
  report.labels = buildLabels(report);
  return report;
}
