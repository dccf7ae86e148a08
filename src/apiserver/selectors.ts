/**
 * Label and field selectors (k8s.io/apimachinery/pkg/labels, pkg/fields): parsed once per
 * request into matchers; malformed input is a 400 like upstream.
 */
import { Errors, type ApiError } from './errors.js';
import type { ResourceInfo } from './resources.js';
import type { JsonObject } from './storage/types.js';
import { err, ok, type Result } from '../common/index.js';

type Op = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

export type Matcher = (obj: JsonObject) => boolean;

const KEY_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseRequirement(raw: string): Result<Requirement, string> {
  const s = raw.trim();
  let m = /^!\s*(\S+)$/.exec(s);
  if (m !== null) return ok({ key: m[1] ?? '', op: '!exists', values: [] });
  m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(s);
  if (m !== null) {
    const values = (m[3] ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v, i, a) => v !== '' || a.length > 1);
    return ok({ key: m[1] ?? '', op: m[2] === 'in' ? 'in' : 'notin', values });
  }
  m = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(s);
  if (m !== null) {
    const op = m[2];
    const v = (m[3] ?? '').trim();
    if (op === '>' || op === '<') {
      if (!/^-?\d+$/.test(v)) return err(`for 'Gt', 'Lt' operators, the value must be an integer`);
      return ok({ key: m[1] ?? '', op: op === '>' ? 'gt' : 'lt', values: [v] });
    }
    return ok({ key: m[1] ?? '', op: op === '!=' ? '!=' : '=', values: [v] });
  }
  if (/^\S+$/.test(s)) return ok({ key: s, op: 'exists', values: [] });
  return err(`found '${s}', expected: identifier`);
}

export function parseLabelSelector(sel: string | null): Result<Matcher, ApiError> {
  if (sel === null || sel.trim() === '') return ok(() => true);
  const reqs: Requirement[] = [];
  for (const part of splitTop(sel)) {
    const r = parseRequirement(part);
    if (!r.ok) return err(Errors.badRequest(`unable to parse requirement: ${r.error}`));
    const req = r.value;
    if (!KEY_RE.test(req.key) || req.key.length > 316)
      return err(Errors.badRequest(`unable to parse requirement: invalid label key "${req.key}"`));
    for (const v of req.values) {
      if (!VALUE_RE.test(v) || v.length > 63)
        return err(Errors.badRequest(`unable to parse requirement: invalid label value: "${v}"`));
    }
    reqs.push(req);
  }
  return ok((obj) => {
    const labels = labelsOf(obj);
    return reqs.every((q) => matchReq(q, labels));
  });
}

function labelsOf(obj: JsonObject): Record<string, string> {
  const md = obj['metadata'];
  if (typeof md !== 'object' || md === null) return {};
  const l = (md as JsonObject)['labels'];
  return typeof l === 'object' && l !== null ? (l as Record<string, string>) : {};
}

function matchReq(q: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, q.key);
  const v = labels[q.key];
  switch (q.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case '=':
    case 'in':
      return has && q.values.includes(v ?? '');
    case '!=':
    case 'notin':
      return !has || !q.values.includes(v ?? '');
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v ?? '')) return false;
      const n = Number(v);
      const t = Number(q.values[0]);
      return q.op === 'gt' ? n > t : n < t;
    }
  }
}

/** Field selector paths each resource supports beyond metadata.name/namespace (upstream GetAttrs). */
const FIELDS: Record<string, readonly string[]> = {
  '/pods': [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  '/events': [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  'events.k8s.io/events': [
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
    'regarding.apiVersion',
    'regarding.resourceVersion',
    'regarding.fieldPath',
    'reason',
    'reportingController',
    'type',
  ],
  '/secrets': ['type'],
  '/nodes': ['spec.unschedulable'],
  '/namespaces': ['status.phase'],
  'apps/replicasets': ['status.replicas'],
};

function fieldValue(obj: JsonObject, path: string): string {
  if (path === 'source') {
    const src = obj['source'] as JsonObject | undefined;
    return typeof src?.['component'] === 'string' ? src['component'] : '';
  }
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return defaultField(path);
    cur = (cur as JsonObject)[seg];
  }
  if (cur === undefined || cur === null) return defaultField(path);
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return JSON.stringify(cur);
}

function defaultField(path: string): string {
  return path === 'spec.hostNetwork' || path === 'spec.unschedulable' ? 'false' : '';
}

export function parseFieldSelector(sel: string | null, r: ResourceInfo): Result<Matcher, ApiError> {
  if (sel === null || sel.trim() === '') return ok(() => true);
  const allowed = new Set([
    'metadata.name',
    'metadata.namespace',
    ...(FIELDS[`${r.group}/${r.resource}`] ?? []),
  ]);
  const reqs: { path: string; neg: boolean; value: string }[] = [];
  for (const part of sel.split(',')) {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (m === null) return err(Errors.badRequest(`invalid selector: '${sel}'; can't understand '${part}'`));
    const path = m[1] ?? '';
    if (!allowed.has(path)) return err(Errors.badRequest(`field label not supported: ${path}`));
    reqs.push({ path, neg: m[2] === '!=', value: m[3] ?? '' });
  }
  return ok((obj) => reqs.every((q) => (fieldValue(obj, q.path) === q.value) !== q.neg));
}

/** The exact name a field selector pins (`metadata.name=x`), used to narrow a watch/list. */
export function pinnedName(sel: string | null): string | undefined {
  if (sel === null) return undefined;
  for (const part of sel.split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(part);
    if (m !== null) return m[1];
  }
  return undefined;
}
