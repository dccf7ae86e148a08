/**
 * Per-type create/update strategies of the built-ins (pkg/registry/<group>/<type>/strategy.go):
 * what a create resets, what a main-resource update may not change, and required fields.
 */
import { Causes, type StatusCause } from './errors.js';
import { applyDefaults, qosClass } from './defaults.js';
import { ephemeralContainerCauses } from './ephemeral.js';
import { deepEqual, dns1123Label, isObject, metaOf, str } from './meta.js';
import { hasSubresource, type ResourceInfo } from './resources.js';
import type { JsonObject } from './storage/types.js';

export function prepareForCreate(r: ResourceInfo, o: JsonObject): void {
  if (r.custom === undefined) applyDefaults(r.group, r.resource, o);
  switch (`${r.group}/${r.resource}`) {
    case '/pods': {
      const spec = isObject(o['spec']) ? o['spec'] : {};
      // Priority admission (no PriorityClass named): priority 0, PreemptLowerPriority.
      if (spec['preemptionPolicy'] === undefined) spec['preemptionPolicy'] = 'PreemptLowerPriority';
      o['status'] = { phase: 'Pending', qosClass: qosClass(spec) };
      return;
    }
    case '/namespaces': {
      const spec = isObject(o['spec']) ? o['spec'] : {};
      spec['finalizers'] = ['kubernetes'];
      o['spec'] = spec;
      o['status'] = { phase: 'Active' };
      return;
    }
    case '/services':
      o['status'] = { loadBalancer: {} };
      return;
    case 'apps/deployments':
      o['status'] = {};
      return;
    case 'apps/replicasets':
      // ReplicaSetStatus.replicas has no omitempty: Go writes the zero
      o['status'] = { replicas: 0 };
      return;
    case 'apps/daemonsets': {
      // DaemonSet strategy: templateGeneration starts at 1, in the deprecated annotation too
      const meta = metaOf(o);
      const ann = isObject(meta['annotations']) ? meta['annotations'] : {};
      ann['deprecated.daemonset.template.generation'] = '1';
      meta['annotations'] = ann;
      o['status'] = {
        currentNumberScheduled: 0,
        numberMisscheduled: 0,
        desiredNumberScheduled: 0,
        numberReady: 0,
      };
      return;
    }
    case 'apiextensions.k8s.io/customresourcedefinitions': {
      // what a new CRD's status is before the controllers fill it in
      const spec = isObject(o['spec']) ? o['spec'] : {};
      const versions: unknown[] = Array.isArray(spec['versions']) ? spec['versions'] : [];
      const storage = versions.find((v) => isObject(v) && v['storage'] === true);
      o['status'] = {
        conditions: null,
        acceptedNames: { plural: '', kind: '' },
        storedVersions: isObject(storage) && typeof storage['name'] === 'string' ? [storage['name']] : [],
      };
      return;
    }
    default:
      if (r.custom !== undefined && hasSubresource(r, 'status')) delete o['status'];
  }
}

/** Main-resource update: status (and namespace finalizers) only change through subresources. */
export function prepareForUpdate(r: ResourceInfo, old: JsonObject, o: JsonObject): void {
  if (r.custom === undefined) applyDefaults(r.group, r.resource, o);
  if (hasSubresource(r, 'status')) {
    if (old['status'] === undefined) delete o['status'];
    else o['status'] = old['status'];
  }
  if (r.group === 'apps' && r.resource === 'daemonsets') {
    // templateGeneration (kept in the deprecated annotation) counts template changes
    const key = 'deprecated.daemonset.template.generation';
    const oldAnn = metaOf(old)['annotations'];
    const prev = Number((isObject(oldAnn) ? str(oldAnn[key]) : undefined) ?? '0');
    const tpl = (x: JsonObject): unknown => (isObject(x['spec']) ? x['spec']['template'] : undefined);
    const gen = deepEqual(tpl(old), tpl(o)) ? prev : prev + 1;
    if (gen > 0) {
      const meta = metaOf(o);
      const ann = isObject(meta['annotations']) ? meta['annotations'] : {};
      ann[key] = String(gen);
      meta['annotations'] = ann;
    }
  }
  if (r.group === '' && r.resource === 'namespaces') {
    const spec = isObject(o['spec']) ? o['spec'] : {};
    const oldSpec = isObject(old['spec']) ? old['spec'] : {};
    if (oldSpec['finalizers'] === undefined) delete spec['finalizers'];
    else spec['finalizers'] = oldSpec['finalizers'];
    o['spec'] = spec;
  }
}

/** `/status` update: everything but status comes from the stored object. */
export function statusUpdate(old: JsonObject, incoming: JsonObject): JsonObject {
  const out = structuredClone(old);
  if (incoming['status'] === undefined) delete out['status'];
  else out['status'] = incoming['status'];
  return out;
}

function containerCauses(list: unknown, path: string, required: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!Array.isArray(list) || list.length === 0) {
    if (required) causes.push(Causes.required(path));
    return causes;
  }
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(c)) {
      causes.push(Causes.required(p));
      return;
    }
    const name = str(c['name']) ?? '';
    if (name === '') causes.push(Causes.required(`${p}.name`));
    else {
      for (const e of dns1123Label(name)) causes.push(Causes.invalidValue(`${p}.name`, name, e));
      if (names.has(name)) causes.push(Causes.duplicate(`${p}.name`, name));
      names.add(name);
    }
    if ((str(c['image']) ?? '') === '') causes.push(Causes.required(`${p}.image`));
  });
  return causes;
}

function podSpecCauses(spec: unknown, path: string): StatusCause[] {
  if (!isObject(spec)) return [Causes.required(`${path}.containers`)];
  const causes = [
    ...containerCauses(spec['containers'], `${path}.containers`, true),
    ...containerCauses(spec['initContainers'], `${path}.initContainers`, false),
    ...ephemeralContainerCauses(spec, path),
  ];
  const rp = spec['restartPolicy'];
  if (rp !== undefined && (typeof rp !== 'string' || !['Always', 'OnFailure', 'Never'].includes(rp)))
    causes.push(Causes.notSupported(`${path}.restartPolicy`, rp, ['Always', 'OnFailure', 'Never']));
  return causes;
}

function selectorMatches(sel: JsonObject, labels: JsonObject): boolean {
  const ml = isObject(sel['matchLabels']) ? sel['matchLabels'] : {};
  if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) return false;
  const exprs = Array.isArray(sel['matchExpressions']) ? sel['matchExpressions'] : [];
  return exprs.every((e) => {
    if (!isObject(e)) return false;
    const key = str(e['key']) ?? '';
    const values = Array.isArray(e['values']) ? e['values'].map(String) : [];
    const has = key in labels;
    switch (e['operator']) {
      case 'In':
        return has && values.includes(String(labels[key]));
      case 'NotIn':
        return !has || !values.includes(String(labels[key]));
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
}

function workloadCauses(o: JsonObject): StatusCause[] {
  const spec = isObject(o['spec']) ? o['spec'] : {};
  const causes: StatusCause[] = [];
  const sel = spec['selector'];
  const tpl = isObject(spec['template']) ? spec['template'] : {};
  const tplMeta = isObject(tpl['metadata']) ? tpl['metadata'] : {};
  const labels = isObject(tplMeta['labels']) ? tplMeta['labels'] : {};
  if (!isObject(sel)) causes.push(Causes.required('spec.selector'));
  else {
    const empty =
      Object.keys(isObject(sel['matchLabels']) ? sel['matchLabels'] : {}).length === 0 &&
      (!Array.isArray(sel['matchExpressions']) || sel['matchExpressions'].length === 0);
    if (empty)
      causes.push(Causes.invalidValue('spec.selector', sel, 'empty selector is invalid for deployment'));
    else if (!selectorMatches(sel, labels))
      causes.push(
        Causes.invalidValue(
          'spec.template.metadata.labels',
          labels,
          '`selector` does not match template `labels`',
        ),
      );
  }
  causes.push(...podSpecCauses(tpl['spec'], 'spec.template.spec'));
  const replicas = spec['replicas'];
  if (typeof replicas === 'number' && replicas < 0)
    causes.push(Causes.invalidValue('spec.replicas', replicas, 'must be greater than or equal to 0'));
  return causes;
}

/** ValidateSecret's per-type rules: the keys each well-known type needs in data. */
function secretTypeCauses(o: JsonObject): StatusCause[] {
  const data = isObject(o['data']) ? o['data'] : {};
  const has = (k: string): boolean => data[k] !== undefined;
  const need = (k: string): StatusCause => Causes.required(`data[${k}]`);
  const json = (k: string): StatusCause[] => {
    if (!has(k)) return [need(k)];
    try {
      const parsed: unknown = JSON.parse(Buffer.from(String(data[k]), 'base64').toString('utf8'));
      if (isObject(parsed)) return [];
    } catch {
      // reported below
    }
    return [Causes.invalidValue(`data[${k}]`, '<secret contents redacted>', 'invalid character in JSON')];
  };
  switch (o['type']) {
    case 'kubernetes.io/service-account-token': {
      const ann = metaOf(o)['annotations'];
      const name = isObject(ann) ? ann['kubernetes.io/service-account.name'] : undefined;
      return typeof name === 'string' && name !== ''
        ? []
        : [Causes.required('metadata.annotations[kubernetes.io/service-account.name]')];
    }
    case 'kubernetes.io/dockercfg':
      return json('.dockercfg');
    case 'kubernetes.io/dockerconfigjson':
      return json('.dockerconfigjson');
    case 'kubernetes.io/basic-auth':
      return has('username') || has('password') ? [] : [need('username'), need('password')];
    case 'kubernetes.io/ssh-auth':
      return typeof data['ssh-privatekey'] === 'string' && data['ssh-privatekey'] !== ''
        ? []
        : [need('ssh-privatekey')];
    case 'kubernetes.io/tls':
      return [...(has('tls.crt') ? [] : [need('tls.crt')]), ...(has('tls.key') ? [] : [need('tls.key')])];
    default:
      return [];
  }
}

/**
 * Go's base64.StdEncoding decode error offset ("illegal base64 data at input byte N"), or
 * undefined when `v` decodes.
 */
export function base64ErrorOffset(v: string): number | undefined {
  const s = v.replace(/[\r\n]/g, '');
  const bad = /[^A-Za-z0-9+/=]/.exec(s);
  if (bad !== null) return bad.index;
  const pad = s.indexOf('=');
  if (pad >= 0) {
    // padding only at the end of the last quantum, one or two of it
    const tail = s.slice(pad);
    if (!/^={1,2}$/.test(tail) || s.length % 4 !== 0 || (tail.length === 2 && pad % 4 !== 2)) return pad;
    return undefined;
  }
  if (s.length % 4 !== 0) return s.length - (s.length % 4);
  return undefined;
}

/** Type-specific validation (create and update). */
export function validate(r: ResourceInfo, o: JsonObject): StatusCause[] {
  switch (`${r.group}/${r.resource}`) {
    case '/pods':
      return podSpecCauses(o['spec'], 'spec');
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/daemonsets':
      return workloadCauses(o);
    case '/configmaps':
    case '/secrets': {
      const causes: StatusCause[] = [];
      for (const f of ['data', 'binaryData', 'stringData']) {
        const d = o[f];
        if (!isObject(d)) continue;
        for (const k of Object.keys(d)) {
          if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253)
            causes.push(
              Causes.invalidValue(
                `${f}[${k}]`,
                k,
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
              ),
            );
        }
      }
      if (r.resource === 'secrets') causes.push(...secretTypeCauses(o));
      return causes;
    }
    case 'coordination.k8s.io/leases': {
      // ValidateLeaseSpec
      const spec = isObject(o['spec']) ? o['spec'] : {};
      const causes: StatusCause[] = [];
      const d = spec['leaseDurationSeconds'];
      if (typeof d === 'number' && d <= 0)
        causes.push(Causes.invalidValue('spec.leaseDurationSeconds', d, 'must be greater than 0'));
      const t = spec['leaseTransitions'];
      if (typeof t === 'number' && t < 0)
        causes.push(Causes.invalidValue('spec.leaseTransitions', t, 'must be greater than or equal to 0'));
      return causes;
    }
    case '/services': {
      const spec = isObject(o['spec']) ? o['spec'] : {};
      const headless = spec['clusterIP'] === 'None' || spec['type'] === 'ExternalName';
      if (!headless && (!Array.isArray(spec['ports']) || spec['ports'].length === 0))
        return [Causes.required('spec.ports')];
      return [];
    }
    default:
      return [];
  }
}

const POD_MUTABLE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Update-only rules (immutability) on top of validate(). */
export function validateUpdate(r: ResourceInfo, old: JsonObject, o: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  if (r.group === '' && r.resource === 'pods') {
    const mask = (spec: unknown): unknown => {
      if (!isObject(spec)) return spec;
      const s = structuredClone(spec);
      for (const k of ['containers', 'initContainers'])
        if (Array.isArray(s[k])) for (const c of s[k]) if (isObject(c)) delete c['image'];
      delete s['activeDeadlineSeconds'];
      delete s['tolerations'];
      delete s['terminationGracePeriodSeconds'];
      // spec.nodeName is set once, by the binding subresource.
      if (s['nodeName'] === undefined) delete s['nodeName'];
      return s;
    };
    const os = mask(old['spec']);
    const ns = mask(o['spec']);
    if (isObject(os) && isObject(ns) && ns['nodeName'] === undefined) delete os['nodeName'];
    if (!deepEqual(os, ns)) causes.push(Causes.forbidden('spec', POD_MUTABLE));
  }
  if (r.group === '' && r.resource === 'secrets' && old['type'] !== o['type'])
    causes.push(Causes.invalidValue('type', o['type'], 'field is immutable'));
  if ((r.group === '' && r.resource === 'configmaps') || (r.group === '' && r.resource === 'secrets')) {
    if (old['immutable'] === true) {
      for (const f of ['data', 'binaryData'])
        if (!deepEqual(old[f], o[f]))
          causes.push(Causes.forbidden(f, 'field is immutable when `immutable` is set'));
    }
  }
  if (
    r.group === 'apps' &&
    !deepEqual(
      (old['spec'] as JsonObject | undefined)?.['selector'],
      (o['spec'] as JsonObject | undefined)?.['selector'],
    )
  )
    causes.push(
      Causes.invalidValue(
        'spec.selector',
        (o['spec'] as JsonObject | undefined)?.['selector'],
        'field is immutable',
      ),
    );
  const om = metaOf(old);
  const nm = metaOf(o);
  if (nm['uid'] !== undefined && nm['uid'] !== om['uid'])
    causes.push(Causes.invalidValue('metadata.uid', nm['uid'], 'field is immutable'));
  return causes;
}
