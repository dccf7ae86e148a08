/**
 * Fills a --pki-cache directory for bench/scale.ts ahead of a run:
 * `npx tsx bench/pki-cache.ts --dir /var/tmp/tether-scale-pki --edges 10000`. Writes the bench
 * CA (ca.json) once and `hollow-<i>.json` (key + client certificate, group tether:edges) for every
 * edge that has none, so a timed run's join measures TLS and registration, not key generation.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EDGE_GROUP } from '../src/cloud/hub/index.js';
import { CertificateAuthority, createCsr } from '../src/common/index.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const dir = arg('dir', '/var/tmp/tether-scale-pki');
const edges = Number(arg('edges', '10000'));
mkdirSync(dir, { recursive: true });
const caFile = join(dir, 'ca.json');
let ca: CertificateAuthority;
if (existsSync(caFile)) {
  const c = JSON.parse(readFileSync(caFile, 'utf8')) as { certPem: string; keyPem: string };
  ca = await CertificateAuthority.load(c.certPem, c.keyPem);
} else {
  ca = await CertificateAuthority.create('tether-bench-ca');
  writeFileSync(caFile, JSON.stringify({ certPem: ca.certPem, keyPem: ca.keyPem }));
}
let made = 0;
for (let i = 0; i < edges; i += 50) {
  await Promise.all(
    Array.from({ length: Math.min(50, edges - i) }, async (_, j) => {
      const name = `hollow-${String(i + j)}`;
      const file = join(dir, `${name}.json`);
      if (existsSync(file)) return;
      const { csrPem, keyPem } = await createCsr(name);
      const certPem = await ca.signClientCsr(csrPem, name, [EDGE_GROUP]);
      writeFileSync(file, JSON.stringify({ certPem, keyPem }));
      made++;
    }),
  );
  if (i % 1000 === 0) process.stderr.write(`${String(i)} / ${String(edges)}\n`);
}
console.log(`${String(made)} new edge credentials in ${dir} (${String(edges)} in all)`);
