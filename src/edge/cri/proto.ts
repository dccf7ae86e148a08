import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MethodDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import type { ImageMethod, RuntimeMethod } from './wire.js';

/**
 * Where cri.proto lives at run time. It sits beside this module in src/ (run through tsx);
 * a `tsc` build to dist/ does not copy non-TS files, so fall back to the source tree next
 * to dist/ rather than fail far away from the cause.
 */
export function protoPath(): string {
  const candidates = [
    fileURLToPath(new URL('./cri.proto', import.meta.url)),
    fileURLToPath(new URL('../../../src/edge/cri/cri.proto', import.meta.url)),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`cri.proto not found; looked in ${candidates.join(', ')}`);
  return found;
}

/**
 * Loader options, chosen on purpose:
 * - keepCase: field names exactly as in the .proto (snake_case), as `wire.ts` declares them;
 * - longs: String — int64 timestamps are nanoseconds (> 2^53), so Number would round them;
 *   `convert.ts` turns them into bigint, and byte counts into number;
 * - enums: String — names, not numbers, so a reordered enum cannot go unnoticed;
 * - defaults: true — absent scalars decode as their zero value, as in Go;
 * - oneofs: true — virtual oneof fields (the trimmed API has none today).
 */
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

let cached: PackageDefinition | undefined;

function definition(): PackageDefinition {
  cached ??= loadSync(protoPath(), LOADER_OPTIONS);
  return cached;
}

type AnyMethod = MethodDefinition<object, unknown>;

function method(service: string, name: string): AnyMethod {
  const svc = definition()[`runtime.v1.${service}`];
  const m = svc !== undefined && 'format' in svc ? undefined : svc?.[name];
  if (m === undefined) throw new Error(`CRI method ${service}.${name} missing from cri.proto`);
  return m as AnyMethod;
}

export function runtimeMethod(name: RuntimeMethod): AnyMethod {
  return method('RuntimeService', name);
}

export function imageMethod(name: ImageMethod): AnyMethod {
  return method('ImageService', name);
}
