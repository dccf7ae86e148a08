/** What every verb handler receives. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../common/index.js';
import type { UserInfo } from '../auth.js';
import { readBody, mediaType } from '../body.js';
import { Causes, Errors, type ApiError } from '../errors.js';
import { parseFieldValidation } from '../fields.js';
import type { ResourceRequest } from '../requestinfo.js';
import { apiVersionOf, type ResourceInfo } from '../resources.js';
import { managerName, type Writer } from '../ssa/index.js';
import type { ObjectStore, WriteOptions } from '../store.js';
import { err, ok, type Result } from '../../common/index.js';

export interface WatchSettings {
  bookmarkIntervalMs: number;
  maxBuffered: number;
  /** Upstream picks a random timeout in [minRequestTimeout, 2×minRequestTimeout]. */
  minRequestTimeoutSeconds: number;
  onWatchStart(): () => void;
}

export interface HandlerContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  info: ResourceRequest;
  r: ResourceInfo;
  user: UserInfo;
  store: ObjectStore;
  logger: Logger;
  maxBodyBytes: number;
  watch: WatchSettings;
  /** Aborted when the client goes away or the server stops. */
  signal: AbortSignal;
  warnings: string[];
}

export function namespaceOf(ctx: HandlerContext): string | undefined {
  return ctx.r.namespaced && ctx.info.namespace !== '' ? ctx.info.namespace : undefined;
}

export function writeOptions(ctx: HandlerContext): Result<WriteOptions, ApiError> {
  const dry = ctx.query.getAll('dryRun');
  const badDry = dryRunError(
    dry,
    ctx.req.method === 'POST' ? 'CreateOptions' : ctx.req.method === 'PUT' ? 'UpdateOptions' : 'PatchOptions',
  );
  if (badDry !== undefined) return err(badDry);
  const fv = parseFieldValidation(ctx.query.get('fieldValidation'));
  if (!fv.ok) return fv;
  const sub = ctx.info.subresource;
  const writer: Writer = {
    manager: managerName(ctx.query.get('fieldManager'), ctx.req.headers['user-agent']),
    apiVersion: apiVersionOf(ctx.r),
    ...(sub === 'status' || sub === 'scale' || sub === 'ephemeralcontainers' ? { subresource: sub } : {}),
  };
  return ok({ dryRun: dry.length > 0, fieldValidation: fv.value, warnings: ctx.warnings, writer });
}

/** ValidateDryRun: only "All"; a 422 on the verb's options kind (CreateOptions, …). */
export function dryRunError(dry: readonly string[], optionsKind: string): ApiError | undefined {
  if (dry.every((d) => d === 'All')) return undefined;
  return Errors.invalid(optionsKind, 'meta.k8s.io', '', [Causes.notSupported('dryRun', dry, ['All'])]);
}

export async function body(ctx: HandlerContext): Promise<Result<{ data: Buffer; type: string }, ApiError>> {
  const b = await readBody(ctx.req, ctx.maxBodyBytes);
  if (!b.ok) return b;
  return ok({ data: b.value, type: mediaType(ctx.req) });
}
