/**
 * Request bodies: size limit (upstream's 3 MiB MaxRequestBodyBytes), content types, and
 * JSON/YAML decoding into an object with apiVersion/kind checks.
 */
import type { IncomingMessage } from 'node:http';
import { parseDocument } from 'yaml';
import { ApiError, Errors } from './errors.js';
import { isObject } from './meta.js';
import { decodeProtobuf, PROTOBUF } from './protobuf.js';
import type { JsonObject } from './storage/types.js';
import { err, ok, type Result } from '../common/index.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;
export const OBJECT_MEDIA_TYPES = [
  'application/json',
  'application/yaml',
  'application/vnd.kubernetes.protobuf',
];

export async function readBody(
  req: IncomingMessage,
  limit = MAX_BODY_BYTES,
): Promise<Result<Buffer, ApiError>> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    return err(Errors.tooLarge(limit));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      return err(Errors.tooLarge(limit));
    }
    chunks.push(chunk);
  }
  return ok(Buffer.concat(chunks));
}

export function mediaType(req: IncomingMessage): string {
  const ct = req.headers['content-type'] ?? '';
  return (ct.split(';')[0] ?? '').trim().toLowerCase();
}

/** Decodes a create/update body: JSON, or YAML (one document). */
export function decodeObject(body: Buffer, type: string): Result<JsonObject, ApiError> {
  if (type === PROTOBUF) return decodeProtobuf(body);
  if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') {
    const doc = parseDocument(body.toString('utf8'));
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      return err(Errors.badRequest(`error converting YAML to JSON: yaml: ${e?.message ?? 'invalid'}`));
    }
    const v: unknown = doc.toJS();
    if (!isObject(v))
      return err(Errors.badRequest(`Object 'Kind' is missing in '${body.toString('utf8').slice(0, 200)}'`));
    return ok(v);
  }
  if (type === '' || type === 'application/json' || type === '*/*') {
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch (e) {
      return err(
        Errors.badRequest(
          `couldn't get version/kind; json parse error: ${e instanceof Error ? e.message : 'invalid JSON'}`,
        ),
      );
    }
    if (!isObject(v))
      return err(
        Errors.badRequest(
          `couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
        ),
      );
    return ok(v);
  }
  return err(Errors.unsupportedMediaType(OBJECT_MEDIA_TYPES));
}

/**
 * The body's apiVersion/kind must name what the URL serves (handlers/create.go); empty
 * fields default to the URL's.
 */
export function checkTypeMeta(
  o: JsonObject,
  expected: { apiVersion: string; kind: string; accepts?: readonly string[] },
): Result<void, ApiError> {
  const av = o['apiVersion'];
  const kind = o['kind'];
  if (av !== undefined && typeof av !== 'string')
    return err(Errors.badRequest('apiVersion must be a string'));
  if (kind !== undefined && typeof kind !== 'string') return err(Errors.badRequest('kind must be a string'));
  if (av === undefined || av === '') o['apiVersion'] = expected.apiVersion;
  if (kind === undefined || kind === '') o['kind'] = expected.kind;
  const gotAv = o['apiVersion'] as string;
  const gotKind = o['kind'] as string;
  const accepted = expected.accepts ?? [expected.apiVersion];
  if (!accepted.includes(gotAv))
    return err(
      Errors.badRequest(
        `the API version in the data (${gotAv}) does not match the expected API version (${expected.apiVersion})`,
      ),
    );
  if (gotKind !== expected.kind)
    return err(
      Errors.badRequest(
        `the object provided is unrecognized (must be of type ${expected.kind}): ${gotKind} is not ${expected.kind}`,
      ),
    );
  o['apiVersion'] = expected.apiVersion;
  return ok(undefined);
}
