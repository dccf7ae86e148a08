/**
 * Which parts of the node binary a process has resident (issue 12 target 1, the edge's footprint):
 * bare `node` touches ~30 MiB of its own binary, the loaded edge agent ~38 MiB. For every page of
 * the binary's mappings that is present in the process (/proc/<pid>/pagemap, bit 63; needs root),
 * the ELF section it is in and the symbol it falls in (`nm -n -S -C` of the binary; a page goes to
 * the symbol covering its first byte, or the nearest one before it). Symbols are grouped into
 * families (C++ namespace, V8 builtins, ICU data, node's JS builtins, OpenSSL, nghttp2, …).
 *
 *   npx tsx bench/edge-binary-pages.ts <pid> [<baseline pid>] [--top 25]
 *
 * With a baseline (e.g. a bare `node -e 'setInterval(()=>{},1e9)'`), also the pages resident in
 * <pid> but not in the baseline, by family and by symbol: what the agent's code reaches beyond
 * node's own start-up. Figures, not assertions.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, readlinkSync } from 'node:fs';

const PAGE = 4096;
const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--top');
const topArg = process.argv.indexOf('--top');
const TOP = topArg >= 0 ? Number(process.argv[topArg + 1]) : 25;
const pid = Number(args[0]);
const basePid = args[1] === undefined ? undefined : Number(args[1]);
if (!Number.isInteger(pid))
  throw new Error('usage: npx tsx bench/edge-binary-pages.ts <pid> [<baseline pid>] [--top N]');

const binary = readlinkSync(`/proc/${String(pid)}/exe`);

interface Section {
  name: string;
  start: number;
  end: number;
  offset: number;
}
function sections(): Section[] {
  const out: Section[] = [];
  for (const line of execFileSync('readelf', ['-SW', binary], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(line);
    if (m === null) continue;
    const start = parseInt(m[2] ?? '0', 16);
    const size = parseInt(m[4] ?? '0', 16);
    const offset = parseInt(m[3] ?? '0', 16);
    if (start > 0 && size > 0) out.push({ name: m[1] ?? '?', start, end: start + size, offset });
  }
  return out;
}

interface Sym {
  addr: number;
  size: number;
  name: string;
}
function symbols(): Sym[] {
  const out: Sym[] = [];
  const text = execFileSync('nm', ['-n', '-S', '-C', '--defined-only', binary], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{16})(?: ([0-9a-f]{16}))? \S (.*)$/.exec(line);
    if (m === null) continue;
    out.push({ addr: parseInt(m[1] ?? '0', 16), size: parseInt(m[2] ?? '0', 16), name: m[3] ?? '?' });
  }
  return out;
}

/** A family for a symbol name: enough to tell which part of node a page belongs to. */
function family(name: string): string {
  if (/^icudt\d+_dat/.test(name)) return 'ICU data (icudt*_dat)';
  if (name.startsWith('Builtins_')) return 'V8 embedded builtins (Builtins_*)';
  if (name.startsWith('v8_Default_embedded_blob')) return 'V8 embedded blob';
  if (name.startsWith('node::builtins::') || /_raw$/.test(name)) return "node's JS builtins sources";
  if (name.startsWith('v8::internal::blob_data') || name.includes('snapshot')) return 'startup snapshot';
  if (
    /^icu_\d+::/.test(name) ||
    /^u(loc|res|data|case|norm|cal|num|text|set|prop|str|trie|hash|map|_)/.test(name)
  )
    return 'ICU code';
  if (/^(nghttp2|nghttp3|ngtcp2)_/.test(name)) return 'nghttp2/3';
  if (
    /^(SSL|ssl|EVP|evp|OPENSSL|ossl|BN_|bn_|X509|x509|ASN1|asn1|CRYPTO|crypto|EC_|ec_|RSA|rsa|SHA|sha|AES|aes|ChaCha|chacha|poly1305|OBJ_|ERR_|BIO|PEM|tls|dtls|PKCS|EVP_|HMAC|CMS|OSSL)/.test(
      name,
    )
  )
    return 'OpenSSL';
  if (/^uv_|^uv__/.test(name)) return 'libuv';
  if (/^(ares_|ares__)/.test(name)) return 'c-ares';
  if (/^(llhttp|llparse)/.test(name)) return 'llhttp';
  if (/^(inflate|deflate|zlib|crc32|adler32|z_|BrotliDecoder|Brotli|_tr_)/.test(name)) return 'zlib/brotli';
  if (/^simdutf|^simdjson|^ada::/.test(name)) return name.split('::')[0] ?? name;
  const ns =
    /^(?:non-virtual thunk to |virtual thunk to |typeinfo for |vtable for )?([A-Za-z_][\w]*)::(?:([A-Za-z_][\w]*)::)?/.exec(
      name,
    );
  if (ns !== null) {
    const a = ns[1] ?? '';
    const b = ns[2] ?? '';
    if (a === 'v8' && b === 'internal') {
      const c = /^(?:\S+ )?v8::internal::([A-Za-z_]\w*)::/.exec(name)?.[1];
      return c !== undefined && /^[a-z]/.test(c) ? `v8::internal::${c}` : 'v8::internal';
    }
    return b !== '' && /^[a-z]/.test(b) ? `${a}::${b}` : a;
  }
  return '(other C symbols)';
}

/** Virtual page numbers of the binary's mappings that are resident in `p`. */
function residentPages(p: number): Set<number> {
  const maps = readFileSync(`/proc/${String(p)}/maps`, 'utf8').split('\n');
  const fd = openSync(`/proc/${String(p)}/pagemap`, 'r');
  const out = new Set<number>();
  try {
    for (const line of maps) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s+(.*)$/.exec(line);
      if (m === null || m[3] !== binary) continue;
      const first = parseInt(m[1] ?? '0', 16) / PAGE;
      const last = parseInt(m[2] ?? '0', 16) / PAGE;
      const buf = Buffer.alloc((last - first) * 8);
      readSync(fd, buf, 0, buf.length, first * 8);
      for (let i = 0; i < last - first; i++) {
        if ((buf.readBigUInt64LE(i * 8) >> 63n) & 1n) out.add(first + i);
      }
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

const secs = sections();
const syms = symbols();
const symOf = (addr: number): Sym | undefined => {
  let lo = 0;
  let hi = syms.length - 1;
  let best: Sym | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = syms[mid];
    if (s === undefined) break;
    if (s.addr <= addr) {
      best = s;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
};

/**
 * The items of ICU's common data (icudt*_dat, a .dat package: header, then a table of contents of
 * {name offset, data offset}), sorted by data offset: a page of ICU data is named by its item
 * (`coll/root.res`, `uprops.icu`, `nfc.nrm`, a locale's `.res` …), i.e. by what reached it.
 */
function icuItems(): { sym: Sym; items: { at: number; name: string }[] } | undefined {
  const sym = syms.find((x) => /^icudt\d+_dat$/.test(x.name));
  const sec = sym === undefined ? undefined : secs.find((x) => sym.addr >= x.start && sym.addr < x.end);
  if (sym === undefined || sec === undefined) return undefined;
  const fd = openSync(binary, 'r');
  const d = Buffer.alloc(sym.size);
  try {
    readSync(fd, d, 0, d.length, sec.offset + (sym.addr - sec.start));
  } finally {
    closeSync(fd);
  }
  const hs = d.readUInt16LE(0);
  const n = d.readUInt32LE(hs);
  const items: { at: number; name: string }[] = [];
  for (let i = 0; i < n; i++) {
    const nameAt = hs + d.readUInt32LE(hs + 4 + 8 * i);
    const name = d.toString('latin1', nameAt, d.indexOf(0, nameAt)).replace(/^icudt\d+l\//, '');
    items.push({ at: sym.addr + hs + d.readUInt32LE(hs + 8 + 8 * i), name });
  }
  items.sort((a, b) => a.at - b.at);
  return { sym, items };
}
const icu = icuItems();
const icuItemOf = (addr: number): string => {
  if (icu === undefined) return '?';
  let best = '(ICU header)';
  for (const it of icu.items) {
    if (it.at > addr + PAGE - 1) break;
    best = it.name;
  }
  return best;
};

const MiB = (pages: number): string => ((pages * PAGE) / 1048576).toFixed(2);

function report(title: string, pages: Iterable<number>): void {
  const bySection = new Map<string, number>();
  const byFamily = new Map<string, number>();
  const bySymbol = new Map<string, number>();
  let total = 0;
  for (const vpn of pages) {
    total++;
    const addr = vpn * PAGE;
    const sec = secs.find((s) => addr + PAGE > s.start && addr < s.end)?.name ?? '(between sections)';
    bySection.set(sec, (bySection.get(sec) ?? 0) + 1);
    // only code and data sections have symbols; a page past its symbol's end is in a region with
    // no symbol (static data of node's own: its JS builtin sources, its start-up snapshot)
    const sym = ['.text', '.rodata', '.data', '.bss'].includes(sec) ? symOf(addr) : undefined;
    const unnamed = sym !== undefined && sym.size > 0 && addr >= sym.addr + sym.size;
    const name =
      sym === undefined
        ? `(${sec})`
        : unnamed
          ? `(no symbol; after ${sym.name.slice(0, 60)})`
          : sym === icu?.sym
            ? `${sym.name}: ${icuItemOf(addr)}`
            : sym.name;
    const fam = sym === undefined ? `(${sec})` : unnamed ? name : family(name);
    byFamily.set(`${sec} ${fam}`, (byFamily.get(`${sec} ${fam}`) ?? 0) + 1);
    bySymbol.set(name, (bySymbol.get(name) ?? 0) + 1);
  }
  const top = (m: Map<string, number>, n: number): string =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${MiB(v).padStart(6)}  ${k.length > 110 ? `${k.slice(0, 107)}...` : k}`)
      .join('\n');
  console.log(`\n## ${title}: ${MiB(total)} MiB (${String(total)} pages)`);
  console.log(`by section (MiB):\n${top(bySection, 20)}`);
  console.log(`by family (section, family; MiB):\n${top(byFamily, TOP)}`);
  console.log(`by symbol (MiB):\n${top(bySymbol, TOP)}`);
}

const mine = residentPages(pid);
console.log(`${binary}: process ${String(pid)}`);
report(`resident in ${String(pid)}`, mine);
if (basePid !== undefined) {
  const base = residentPages(basePid);
  report(`resident in the baseline ${String(basePid)}`, base);
  report(
    `resident in ${String(pid)}, not in the baseline`,
    [...mine].filter((v) => !base.has(v)),
  );
  report(
    `resident in the baseline, not in ${String(pid)}`,
    [...base].filter((v) => !mine.has(v)),
  );
}
