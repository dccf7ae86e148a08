import { parseKeyValue, type FsRoot } from './fsroot.js';
import type { Architecture, CpuInfo, OsInfo } from './types.js';

/** `uname -m` spellings to Kubernetes' (GOARCH) spelling. */
export function archFromMachine(machine: string): Architecture {
  const m = machine.trim().toLowerCase();
  if (m === 'x86_64' || m === 'amd64' || m === 'x64') return 'amd64';
  if (m === 'aarch64' || m === 'arm64' || m === 'armv8b' || m === 'aarch64_be') return 'arm64';
  if (/^arm/u.test(m)) return 'arm';
  if (m === 'riscv64') return 'riscv64';
  if (m === 'ppc64le' || m === 'ppc64') return 'ppc64le';
  if (m === 's390x') return 's390x';
  if (/^i[3-6]86$/u.test(m) || m === 'ia32') return '386';
  return 'unknown';
}

/** cpuinfo as a list of stanzas (one per processor, plus trailing global fields on some arches). */
export function parseCpuinfo(text: string | undefined): Map<string, string>[] {
  if (text === undefined) return [];
  const out: Map<string, string>[] = [];
  for (const block of text.split(/\n\s*\n/u)) {
    const m = new Map<string, string>();
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      m.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    if (m.size > 0) out.push(m);
  }
  return out;
}

function archFromCpuinfo(stanzas: Map<string, string>[]): Architecture {
  for (const s of stanzas) {
    const isa = s.get('isa');
    if (isa?.startsWith('rv64') === true) return 'riscv64';
    const armArch = s.get('cpu architecture');
    if (armArch === '8' || armArch === 'AArch64') return 'arm64';
    if (armArch !== undefined && /^[5-7]/u.test(armArch)) return 'arm';
    const vendor = s.get('vendor_id');
    if (vendor === 'IBM/S390') return 's390x';
    if (s.get('cpu')?.startsWith('POWER') === true) return 'ppc64le';
    const flags = s.get('flags');
    if (flags !== undefined) return /\blm\b/u.test(flags) ? 'amd64' : '386';
  }
  return 'unknown';
}

export function archFromProcess(arch: string): Architecture {
  return archFromMachine(arch === 'ppc64' ? 'ppc64le' : arch);
}

/**
 * The kernel's own machine name first (`/proc/sys/kernel/arch` is `uname -m`), then cpuinfo
 * fields. Only on the real root may the host's process.arch fill a gap: for a fixture it
 * would describe the test machine, not the fixture.
 */
export async function detectArchitecture(fs: FsRoot, stanzas: Map<string, string>[]): Promise<Architecture> {
  const machine = await fs.line('/proc/sys/kernel/arch');
  if (machine !== undefined) {
    const a = archFromMachine(machine);
    if (a !== 'unknown') return a;
  }
  const fromCpu = archFromCpuinfo(stanzas);
  if (fromCpu !== 'unknown') return fromCpu;
  return fs.root === '/' ? archFromProcess(process.arch) : 'unknown';
}

export async function detectOs(fs: FsRoot): Promise<OsInfo> {
  // os-release(5): /etc/os-release, falling back to /usr/lib/os-release.
  const text = (await fs.text('/etc/os-release')) ?? (await fs.text('/usr/lib/os-release'));
  const kv = parseKeyValue(text);
  const out: OsInfo = {};
  const pretty = kv.get('PRETTY_NAME') ?? kv.get('NAME');
  if (pretty !== undefined && pretty !== '') out.prettyName = pretty;
  const id = kv.get('ID');
  if (id !== undefined && id !== '') out.id = id;
  const version = kv.get('VERSION_ID');
  if (version !== undefined && version !== '') out.versionId = version;
  return out;
}

/** ARM Ltd (implementer 0x41) and a few other cores common on edge boards (arm64 cpuinfo has no model name). */
const ARM_PARTS: Record<string, Record<string, string>> = {
  '0x41': {
    '0xd03': 'Cortex-A53',
    '0xd04': 'Cortex-A35',
    '0xd05': 'Cortex-A55',
    '0xd07': 'Cortex-A57',
    '0xd08': 'Cortex-A72',
    '0xd09': 'Cortex-A73',
    '0xd0a': 'Cortex-A75',
    '0xd0b': 'Cortex-A76',
    '0xd0c': 'Neoverse-N1',
    '0xd0d': 'Cortex-A77',
    '0xd40': 'Neoverse-V1',
    '0xd41': 'Cortex-A78',
    '0xd42': 'Cortex-A78AE',
    '0xd44': 'Cortex-X1',
    '0xd46': 'Cortex-A510',
    '0xd47': 'Cortex-A710',
    '0xd48': 'Cortex-X2',
    '0xd49': 'Neoverse-N2',
    '0xd4d': 'Cortex-A715',
    '0xd4f': 'Neoverse-V2',
  },
  '0x4e': { '0x004': 'Carmel' },
  '0x61': {},
};
const ARM_IMPLEMENTERS: Record<string, string> = {
  '0x41': 'arm',
  '0x42': 'broadcom',
  '0x43': 'cavium',
  '0x48': 'hisilicon',
  '0x4e': 'nvidia',
  '0x51': 'qualcomm',
  '0x61': 'apple',
  '0xc0': 'ampere',
};
const X86_VENDORS: Record<string, string> = {
  GenuineIntel: 'intel',
  AuthenticAMD: 'amd',
  HygonGenuine: 'hygon',
  CentaurHauls: 'centaur',
};

export async function detectCpu(fs: FsRoot, stanzas: Map<string, string>[]): Promise<CpuInfo> {
  const processors = stanzas.filter((s) => s.has('processor') && /^\d+$/u.test(s.get('processor') ?? ''));
  let count = processors.length;
  if (count === 0) count = parseCpuList(await fs.line('/sys/devices/system/cpu/online'));
  const info: CpuInfo = { count };

  for (const s of stanzas) {
    const name = s.get('model name');
    // 32-bit ARM kernels print "ARMv7 Processor rev 4 (v7l)" here: a family, not a model; parts are better.
    if (name !== undefined && name !== '' && !/^ARMv\d/u.test(name)) {
      info.model = name;
      break;
    }
  }
  const vendorId = stanzas.find((s) => s.has('vendor_id'))?.get('vendor_id');
  if (vendorId !== undefined) info.vendor = X86_VENDORS[vendorId] ?? vendorId.toLowerCase();

  if (info.model === undefined) {
    // arm64: one name per distinct core type, in order of appearance (big.LITTLE boards have two).
    const parts: string[] = [];
    for (const s of processors) {
      const impl = s.get('cpu implementer')?.toLowerCase();
      const part = s.get('cpu part')?.toLowerCase();
      if (impl === undefined || part === undefined) continue;
      info.vendor ??= ARM_IMPLEMENTERS[impl] ?? impl;
      const name = ARM_PARTS[impl]?.[part] ?? `${impl}-${part}`;
      if (!parts.includes(name)) parts.push(name);
    }
    if (parts.length > 0) info.model = parts.join(' + ');
  }
  if (info.model === undefined) {
    // RISC-V: "uarch : sifive,u74-mc"; old 32-bit ARM: "Hardware : BCM2835".
    const uarch = stanzas.find((s) => s.has('uarch'))?.get('uarch');
    const hardware = stanzas.find((s) => s.has('hardware'))?.get('hardware');
    const isa = stanzas.find((s) => s.has('isa'))?.get('isa');
    const model = uarch ?? hardware ?? (isa === undefined ? undefined : isa.split('_')[0]);
    if (model !== undefined && model !== '') info.model = model;
    if (uarch !== undefined && info.vendor === undefined) info.vendor = uarch.split(',')[0] ?? uarch;
  }
  return info;
}

/** "0-3,6,8-9" → 7. */
export function parseCpuList(list: string | undefined): number {
  if (list === undefined) return 0;
  let n = 0;
  for (const part of list.split(',')) {
    const [a, b] = part.trim().split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (Number.isInteger(lo) && Number.isInteger(hi) && hi >= lo) n += hi - lo + 1;
  }
  return n;
}

/** MemTotal from /proc/meminfo in bytes (the kernel prints kB meaning KiB). */
export async function detectMemoryBytes(fs: FsRoot): Promise<number> {
  const text = await fs.text('/proc/meminfo');
  const m = text === undefined ? null : /^MemTotal:\s+(\d+)\s*kB/mu.exec(text);
  return m?.[1] === undefined ? 0 : Number(m[1]) * 1024;
}

/** Board model and SoC from the device tree (both locations exist depending on the kernel). */
export async function detectBoard(
  fs: FsRoot,
): Promise<{ board?: string; soc?: string; compatible: string[] }> {
  const board =
    (await fs.line('/proc/device-tree/model')) ?? (await fs.line('/sys/firmware/devicetree/base/model'));
  let compatible = await fs.nulList('/proc/device-tree/compatible');
  if (compatible.length === 0) compatible = await fs.nulList('/sys/firmware/devicetree/base/compatible');
  const out: { board?: string; soc?: string; compatible: string[] } = { compatible };
  if (board !== undefined) out.board = board;
  // The root node's compatible list runs from most to least specific: board first, SoC last.
  if (compatible.length > 1) {
    const soc = compatible[compatible.length - 1];
    if (soc !== undefined) out.soc = soc;
  }
  return out;
}
