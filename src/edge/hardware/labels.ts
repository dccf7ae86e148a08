import type { Accelerator, AcceleratorKind, HardwareReport } from './types.js';

export const LABEL_PREFIX = 'tether.dev/';

/**
 * Turns any string into a valid Kubernetes label value (≤ 63 characters, [A-Za-z0-9._-],
 * alphanumeric at both ends), or undefined when nothing is left — the label is then omitted
 * rather than set to an empty value that says nothing.
 * Trademark marks are dropped first so "Intel(R) Xeon(R)" reads "Intel-Xeon".
 */
export function sanitizeLabelValue(raw: string): string | undefined {
  let v = raw
    .replace(/\((?:R|TM|C)\)|[®™©]/giu, ' ')
    .replace(/@/gu, ' ')
    .replace(/[^A-Za-z0-9._-]+/gu, '-')
    .replace(/-{2,}/gu, '-')
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/gu, '');
  if (v.length > 63) v = v.slice(0, 63).replace(/[^A-Za-z0-9]+$/u, '');
  return v === '' ? undefined : v;
}

/** A label value must match this (Kubernetes validation: qualified-name value). */
export const LABEL_VALUE_RE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/u;

type LabelInput = Pick<
  HardwareReport,
  'architecture' | 'os' | 'kernel' | 'cpu' | 'board' | 'soc' | 'virtualization' | 'accelerators'
>;

const KINDS: readonly AcceleratorKind[] = ['gpu', 'dpu', 'smartnic', 'fpga', 'npu', 'tpu'];

/** The node labels of a report. Deterministic: the same machine always gives the same labels. */
export function buildLabels(r: LabelInput): Record<string, string> {
  const labels: Record<string, string> = {};
  const set = (key: string, value: string | undefined): void => {
    if (value === undefined) return;
    const v = sanitizeLabelValue(value);
    if (v !== undefined) labels[`${LABEL_PREFIX}${key}`] = v;
  };
  if (r.architecture !== 'unknown') {
    labels['kubernetes.io/arch'] = r.architecture;
    set('arch', r.architecture);
  }
  labels['kubernetes.io/os'] = 'linux';
  set('os.id', r.os.id);
  set('os.version', r.os.versionId);
  set('kernel', r.kernel);
  set('cpu-model', r.cpu.model);
  set('cpu-vendor', r.cpu.vendor);
  set('board', r.board);
  set('soc', r.soc);
  set('virtualization', r.virtualization.kind);
  set('hypervisor', r.virtualization.hypervisor);
  set('container-runtime', r.virtualization.containerRuntime);

  for (const kind of KINDS) {
    const found = r.accelerators.filter((a) => a.kind === kind);
    const first = found[0];
    if (first === undefined) continue;
    set(kind, 'true');
    set(`${kind}.count`, String(found.length));
    set(`${kind}.model`, first.model);
    for (const vendor of new Set(found.map((a) => a.vendor))) set(`${kind}.${vendor}`, 'true');
    if (found.some((a) => a.integrated)) set(`${kind}.integrated`, 'true');
  }
  return labels;
}

/** Extended resources: one unit per card, keyed by each accelerator's resource name. */
export function buildExtendedResources(accelerators: readonly Accelerator[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of accelerators) out[a.resourceName] = (out[a.resourceName] ?? 0) + 1;
  return out;
}
