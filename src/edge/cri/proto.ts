import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MethodDefinition } from '@grpc/grpc-js';
import protobuf, { type IConversionOptions, type Type } from 'protobufjs';
import type { ImageMethod, RuntimeMethod } from './wire.js';

// protobufjs is CommonJS: its classes come through the default export under node's ESM
const { Root } = protobuf;

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
 * Decoding options, chosen on purpose (the same as @grpc/proto-loader's, which tests use to build
 * fake CRI servers from the same file):
 * - keepCase (a parse option, below): field names exactly as in the .proto (snake_case), as
 *   `wire.ts` declares them;
 * - longs: String — int64 timestamps are nanoseconds (> 2^53), so Number would round them;
 *   `convert.ts` turns them into bigint, and byte counts into number;
 * - enums: String — names, not numbers, so a reordered enum cannot go unnoticed;
 * - defaults: true — absent scalars decode as their zero value, as in Go;
 * - oneofs: true — virtual oneof fields (the trimmed API has none today).
 */
const DECODE_OPTIONS: IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

type AnyMethod = MethodDefinition<object, unknown>;

/**
 * The method definitions grpc-js needs, made straight from protobufjs's reflection of cri.proto.
 * Not through @grpc/proto-loader: it also loads protobufjs's descriptor.proto reflection and keeps
 * a DescriptorProto object tree and the serialized file descriptors for every message — ~0.9 MiB
 * of heap the agent never reads (issue 12 edge footprint). Serialize and deserialize are
 * proto-loader's own (fromObject → encode; decode → toObject with DECODE_OPTIONS).
 */
let cached: Map<string, AnyMethod> | undefined;

function methods(): Map<string, AnyMethod> {
  if (cached !== undefined) return cached;
  const root = new Root().loadSync(protoPath(), { keepCase: true });
  root.resolveAll();
  const out = new Map<string, AnyMethod>();
  for (const service of ['RuntimeService', 'ImageService']) {
    for (const m of root.lookupService(`runtime.v1.${service}`).methodsArray) {
      const req = m.resolvedRequestType;
      const res = m.resolvedResponseType;
      if (req === null || res === null) throw new Error(`CRI method ${service}.${m.name}: unresolved types`);
      const serialize =
        (t: Type) =>
        (value: object): Buffer =>
          t.encode(t.fromObject(value)).finish() as Buffer;
      const deserialize =
        (t: Type) =>
        (bytes: Buffer): unknown =>
          t.toObject(t.decode(bytes), DECODE_OPTIONS);
      out.set(`${service}.${m.name}`, {
        path: `/runtime.v1.${service}/${m.name}`,
        requestStream: m.requestStream === true,
        responseStream: m.responseStream === true,
        requestSerialize: serialize(req),
        requestDeserialize: deserialize(req) as (bytes: Buffer) => object,
        responseSerialize: serialize(res) as (value: unknown) => Buffer,
        responseDeserialize: deserialize(res),
      });
    }
  }
  cached = out;
  return out;
}

function method(service: string, name: string): AnyMethod {
  const m = methods().get(`${service}.${name}`);
  if (m === undefined) throw new Error(`CRI method ${service}.${name} missing from cri.proto`);
  return m;
}

export function runtimeMethod(name: RuntimeMethod): AnyMethod {
  return method('RuntimeService', name);
}

export function imageMethod(name: ImageMethod): AnyMethod {
  return method('ImageService', name);
}
