/**
 * Events: core/v1 and events.k8s.io/v1 are two views of one resource upstream (one storage,
 * the stored form is core's; pkg/apis/events/v1 conversion renames the fields), and their
 * validation (pkg/apis/core/validation/events.go). Fields Go serialises without omitempty are
 * written as upstream writes them (null times, empty strings), so clients see the same shape.
 */
import { Causes, type StatusCause } from './errors.js';
import { isObject, metaOf, str } from './meta.js';
import type { JsonObject } from './storage/types.js';

/** events.k8s.io/v1 field ↔ core/v1 field. */
const RENAMES: readonly (readonly [string, string])[] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

export function isEventsV1(r: { group: string; resource: string }): boolean {
  return r.group === 'events.k8s.io' && r.resource === 'events';
}

export function isCoreEvent(r: { group: string; resource: string }): boolean {
  return r.group === '' && r.resource === 'events';
}

function rename(o: JsonObject, from: 0 | 1): JsonObject {
  const out: JsonObject = { ...o };
  const to = from === 0 ? 1 : 0;
  for (const pair of RENAMES) {
    const a = pair[from];
    const b = pair[to];
    Reflect.deleteProperty(out, a);
    if (o[a] !== undefined) out[b] = o[a];
  }
  return out;
}

/** An events.k8s.io/v1 Event as core/v1 stores it. */
export function eventsToCore(o: JsonObject): JsonObject {
  const out = rename(o, 0);
  out['apiVersion'] = 'v1';
  // null placeholders of the other view are not data
  for (const k of ['firstTimestamp', 'lastTimestamp', 'eventTime'])
    if (out[k] === null) Reflect.deleteProperty(out, k);
  if (isObject(out['source']) && Object.keys(out['source']).length === 0) delete out['source'];
  return out;
}

/** A stored (core) Event as events.k8s.io/v1 serves it. */
export function coreToEvents(o: JsonObject): JsonObject {
  const out = rename(o, 1);
  // events/v1 types: eventTime and the deprecated times without omitempty (null when zero),
  // deprecatedSource a struct (always written), deprecatedCount omitempty.
  out['eventTime'] = out['eventTime'] ?? null;
  out['deprecatedFirstTimestamp'] = out['deprecatedFirstTimestamp'] ?? null;
  out['deprecatedLastTimestamp'] = out['deprecatedLastTimestamp'] ?? null;
  out['deprecatedSource'] = out['deprecatedSource'] ?? {};
  if (out['deprecatedCount'] === 0) delete out['deprecatedCount'];
  if (out['reportingInstance'] === '') delete out['reportingInstance'];
  if (out['reportingController'] === '') delete out['reportingController'];
  return out;
}

/** A stored core Event as core/v1 serves it (times null, reporting fields "", as Go writes). */
export function coreEventOut(o: JsonObject): JsonObject {
  return {
    ...o,
    source: o['source'] ?? {},
    firstTimestamp: o['firstTimestamp'] ?? null,
    lastTimestamp: o['lastTimestamp'] ?? null,
    eventTime: o['eventTime'] ?? null,
    reportingComponent: o['reportingComponent'] ?? '',
    reportingInstance: o['reportingInstance'] ?? '',
  };
}

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

/**
 * ValidateEventCreate/Update for a core-form Event; `strict` for creation through
 * events.k8s.io/v1 (not core/v1, kept lenient upstream for old clients).
 */
export function eventCauses(core: JsonObject, viaEventsV1: boolean, create: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const ns = str(metaOf(core)['namespace']) ?? '';
  const involved = isObject(core['involvedObject']) ? core['involvedObject'] : {};
  const involvedNs = str(involved['namespace']) ?? '';
  const eventTime = core['eventTime'];
  const hasEventTime = typeof eventTime === 'string' && eventTime !== '';
  const controllerField = viaEventsV1 ? 'reportingController' : 'reportingComponent';
  const len = (k: string): number => (str(core[k]) ?? '').length;
  if (!hasEventTime) {
    const mismatch = involvedNs === '' ? ns !== '' && ns !== 'default' : ns !== involvedNs;
    if (mismatch)
      causes.push(
        Causes.invalidValue('involvedObject.namespace', involvedNs, 'does not match event.namespace'),
      );
  } else {
    if (involvedNs === '' && ns !== 'default' && ns !== 'kube-system')
      causes.push(
        Causes.invalidValue('involvedObject.namespace', involvedNs, 'does not match event.namespace'),
      );
    if (len('reportingComponent') === 0) causes.push(Causes.required(controllerField));
    if (len('reportingInstance') === 0) causes.push(Causes.required('reportingInstance'));
    if (len('reportingInstance') > REPORTING_INSTANCE_LIMIT)
      causes.push(
        Causes.invalidValue(
          'reportingInstance',
          '',
          `can have at most ${REPORTING_INSTANCE_LIMIT} characters`,
        ),
      );
    if (len('action') === 0) causes.push(Causes.required('action'));
    if (len('action') > ACTION_LIMIT)
      causes.push(Causes.invalidValue('action', '', `can have at most ${ACTION_LIMIT} characters`));
    if (len('reason') === 0) causes.push(Causes.required('reason'));
    if (len('reason') > REASON_LIMIT)
      causes.push(Causes.invalidValue('reason', '', `can have at most ${REASON_LIMIT} characters`));
    if (len('message') > NOTE_LIMIT)
      causes.push(Causes.invalidValue('message', '', `can have at most ${NOTE_LIMIT} characters`));
  }
  if (!viaEventsV1 || !create) return causes;
  // strict validation of creation through events.k8s.io/v1
  if (!hasEventTime) causes.push(Causes.required('eventTime'));
  const type = core['type'];
  if (type !== 'Normal' && type !== 'Warning')
    causes.push(Causes.invalidValue('type', '', `has invalid value: ${str(type) ?? ''}`));
  if (core['firstTimestamp'] !== undefined && core['firstTimestamp'] !== null)
    causes.push(Causes.invalidValue('firstTimestamp', '', 'needs to be unset'));
  if (core['lastTimestamp'] !== undefined && core['lastTimestamp'] !== null)
    causes.push(Causes.invalidValue('lastTimestamp', '', 'needs to be unset'));
  if (typeof core['count'] === 'number' && core['count'] !== 0)
    causes.push(Causes.invalidValue('count', '', 'needs to be unset'));
  const src = isObject(core['source']) ? core['source'] : {};
  if ((str(src['component']) ?? '') !== '' || (str(src['host']) ?? '') !== '')
    causes.push(Causes.invalidValue('source', '', 'needs to be unset'));
  return causes;
}
