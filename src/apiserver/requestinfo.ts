/**
 * URL → request attributes, after upstream's RequestInfoFactory
 * (apiserver/pkg/endpoints/request/requestinfo.go).
 */
import type { Verb } from './resources.js';

export interface ResourceRequest {
  kind: 'resource';
  verb: Verb;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** A legacy /watch/ path prefix was used. */
  legacyWatch: boolean;
}

export interface NonResourceRequest {
  kind: 'nonresource';
  path: string;
}

export type RequestInfo = ResourceRequest | NonResourceRequest;

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function isTrue(v: string | null): boolean {
  return v !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
}

export function parseRequest(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let rest: string[];
  let group: string;
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] ?? '';
    version = parts[2] ?? '';
    rest = parts.slice(3);
  } else {
    return { kind: 'nonresource', path: pathname };
  }
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] ?? '';
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? '')) rest = rest.slice(2);
  }
  const resource = rest[0] ?? '';
  const name = rest[1] ?? '';
  const subresource = rest[2] ?? '';
  if (rest.length > 3 || resource === '') return { kind: 'nonresource', path: pathname };
  let verb: Verb;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = name === '' ? 'list' : 'get';
      if (legacyWatch || isTrue(query.get('watch'))) verb = 'watch';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name === '' ? 'deletecollection' : 'delete';
      break;
    default:
      return { kind: 'nonresource', path: pathname };
  }
  // A namespace object: /api/v1/namespaces/foo → resource namespaces, name foo.
  if (resource === 'namespaces' && group === '' && name !== '') namespace = '';
  return { kind: 'resource', verb, group, version, resource, subresource, namespace, name, legacyWatch };
}

export function boolParam(query: URLSearchParams, k: string): boolean {
  return isTrue(query.get(k));
}
