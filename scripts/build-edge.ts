// The edge bundle (issue 12: edge footprint): `tether edge run` as one ES module (whitespace and
// syntax minified), dist/bundle/tether-edge.mjs, instead of ~550 modules of dist/ and node_modules.
// Called by `bin/tether --build` after tsc (which typechecks); usage:
// npx tsx scripts/build-edge.ts <outdir>.
//
// Bundled: our sources and the libraries the agent loads at start (zod, commander, yaml, ws, pino,
// prom-client, msgpackr, @grpc/grpc-js, @grpc/proto-loader, protobufjs). Left external, loaded
// from node_modules at run time:
// - the native addon better-sqlite3 (and its `bindings`); msgpackr's optional native accelerator
//   msgpackr-extract is left out (noMsgpackrExtract below);
// - libraries the agent imports lazily, so that they stay off the heap until used: mqtt and aedes
//   (the bus, MQTT devices), modbus-serial, @peculiar/x509 + reflect-metadata (certificates);
// - spdy-transport, which src/edge/streams/spdy.ts reaches with createRequire.
// The CRI proto is copied next to the bundle (src/edge/cri/proto.ts looks beside its module).
// No source map by default (TETHER_SOURCEMAP=1 writes an external one).
import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const out = process.argv[2];
if (out === undefined) throw new Error('usage: npx tsx scripts/build-edge.ts <outdir>');
mkdirSync(out, { recursive: true });

const EXTERNAL = [
  'better-sqlite3',
  'mqtt',
  'aedes',
  'modbus-serial',
  '@peculiar/x509',
  'reflect-metadata',
  'spdy-transport',
  // never on the edge path (lint: the edge must not import it); external so a mistake loads it
  // from node_modules instead of bundling megabytes
  '@kubernetes/client-node',
];

/**
 * zod re-exports all of its ~50 locales (`z.locales`, `z.core.locales`) from locales/index.js;
 * the agent uses none (English is registered through locales/en.js, imported on its own by
 * classic/schemas.js), so the index is an empty module here: ~0.2 MiB less source text.
 */
const noZodLocales: Plugin = {
  name: 'no-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
      a.importer.includes('/node_modules/zod/')
        ? { path: 'zod-locales', namespace: 'tether-empty' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'tether-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * Only ASCII in the output. V8 keeps a script's source text for the life of the process, as
 * Latin-1 when every character fits and as UTF-16 otherwise: esbuild leaves non-ASCII characters
 * of regular expression literals as they are (src/edge/hardware/labels.ts has `[®™©]`), and one
 * `™` doubled the bundle's 1.5 MiB in the heap. \uXXXX means the same in strings, templates,
 * identifiers and regular expressions (with or without the u flag, a surrogate pair of escapes
 * is one code point there); the bundle has no comments (legalComments: none) and no String.raw
 * over such characters.
 */
const asciiOnly = (text: string): string =>
  text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * Node's builtin modules through require(), not import. An ES module import of a builtin makes
 * node build its ESM namespace, which reads every export — lazy getters included: `node:tls`'s
 * rootCertificates (148 PEM strings, ~0.25 MiB of heap for the life of the process, although
 * the agent passes its own CA everywhere) and `node:crypto`'s webcrypto/subtle (lib/internal/
 * crypto/webcrypto and its WebIDL converters). As CommonJS, esbuild reads the named imports off
 * the module object where they are used, so a getter runs only if the code reads it.
 */
const builtinsAsRequire: Plugin = {
  name: 'builtins-as-require',
  setup(b) {
    const builtin = new Set(builtinModules);
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (a) =>
      a.kind === 'import-statement' && builtin.has(a.path.replace(/^node:/, ''))
        ? { path: a.path, namespace: 'tether-builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'tether-builtin' }, (a) => ({
      contents: `module.exports = require(${JSON.stringify(a.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * msgpackr without its native accelerator (msgpackr-extract) on the edge: msgpackr treats it as
 * optional and decodes in JavaScript without it — the same bytes either way; it only speeds up
 * reading strings of large messages, and the agent decodes a few channel frames a second.
 * Loading it (node-gyp-build's lookup through node_modules, dlopen, its bindings) measured +2.3
 * MiB RSS with the agent's V8 flags (node binary pages +1.1, heap +1.1). The cloud keeps it.
 */
const noMsgpackrExtract: Plugin = {
  name: 'no-msgpackr-extract',
  setup(b) {
    b.onResolve({ filter: /^msgpackr-extract$/ }, () => ({
      path: 'msgpackr-extract',
      namespace: 'tether-null',
    }));
    b.onLoad({ filter: /.*/, namespace: 'tether-null' }, () => ({
      contents: 'module.exports = null;',
      loader: 'js',
    }));
  },
};

const result = await build({
  entryPoints: ['src/cli/edge-main.ts'],
  outfile: join(out, 'tether-edge.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Whitespace and syntax minified, identifiers not: class and function names stay what they are
  // in the sources (TetherError subclasses take their `name` from the class; logs, stack traces
  // and heap snapshots stay readable). esbuild's keepNames would keep them while renaming, but it
  // redefines `name` on every function it creates (a property array per closure): measured at
  // the agent's start, 0.3 MiB more heap than this setting's 0.45 MiB more source text.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: process.env['TETHER_SOURCEMAP'] === '1' ? 'external' : false,
  external: EXTERNAL,
  // CommonJS libraries in an ES module bundle: esbuild turns their require() of node builtins
  // (grpc-js: http2, pino: worker_threads, ...) into __require(), which needs a real require
  banner: {
    js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
  },
  charset: 'ascii',
  legalComments: 'none',
  plugins: [noZodLocales, builtinsAsRequire, noMsgpackrExtract],
  write: false,
  logLevel: 'warning',
});
let bytes = 0;
for (const f of result.outputFiles) {
  const text = f.path.endsWith('.mjs') ? asciiOnly(f.text) : f.text;
  writeFileSync(f.path, text);
  bytes += Buffer.byteLength(text);
}
copyFileSync('src/edge/cri/cri.proto', join(out, 'cri.proto'));
process.stderr.write(`tether: edge bundle ${out}/tether-edge.mjs (${(bytes / 1048576).toFixed(2)} MiB)\n`);
