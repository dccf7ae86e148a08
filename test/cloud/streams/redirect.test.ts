/**
 * The streams endpoint's iptables redirect on real netfilter: connections to an edge's address on
 * the advertised kubelet port reach the cloud endpoint both from this host (nat OUTPUT: the API
 * server) and from a pod's network namespace (nat PREROUTING: metrics-server in a pod), the jumps
 * are not duplicated by a restart after a crash, and stop() removes every rule.
 */
import { execFileSync, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/index.js';
import { IptablesRedirect } from '../../../src/cloud/streams/index.js';
import { freePort } from '../../support/procs.js';
import { createEdgeHost, netnsAvailable, type EdgeHost } from '../../support/netns.js';

const nat = (...args: string[]): string =>
  execFileSync('iptables', ['-w', '5', '-t', 'nat', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const jumps = (hook: string, chain: string): number =>
  nat('-S', hook)
    .split('\n')
    .filter((l) => l.endsWith(`-j ${chain}`)).length;

/** What a TCP client gets from address:port (the endpoint's greeting), or the error; 3 s at most. */
function dialFrom(ns: string | undefined, address: string, port: number): Promise<string> {
  const script = `const s=require('node:net').connect(${String(port)},'${address}');let d='';
s.setTimeout(3000,()=>{process.stdout.write('timeout');process.exit(0)});
s.on('data',(b)=>d+=b);s.on('end',()=>{process.stdout.write(d);process.exit(0)});
s.on('error',(e)=>{process.stdout.write(e.code??String(e));process.exit(0)});`;
  if (ns === undefined)
    return new Promise((resolve) => {
      let d = '';
      const s = connect(port, address);
      s.setTimeout(3000, () => {
        s.destroy();
        resolve('timeout');
      });
      s.on('data', (b: Buffer) => (d += b.toString()));
      s.on('end', () => {
        resolve(d);
      });
      s.on('error', (e: NodeJS.ErrnoException) => {
        resolve(e.code ?? String(e));
      });
    });
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      ['netns', 'exec', ns, process.execPath, '-e', script],
      { timeout: 30_000 },
      (err, stdout) => {
        if (err !== null) reject(new Error(`ip netns exec ${ns}: ${err.message}`));
        else resolve(stdout);
      },
    );
  });
}

describe.runIf(netnsAvailable())('streams redirect — iptables nat on this host', () => {
  const chain = `TRDR-${randomBytes(3).toString('hex')}`;
  let edge: EdgeHost;
  let pod: EdgeHost;
  let endpoint: Server;
  let kubeletPort = 0;
  let redirect: IptablesRedirect;

  beforeAll(async () => {
    // the cloud endpoint, listening on all addresses as with the default streams.host 0.0.0.0
    endpoint = createServer((s) => {
      s.end('endpoint\n');
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '0.0.0.0', resolve));
    const a = endpoint.address();
    const endpointPort = typeof a === 'object' && a !== null ? a.port : 0;
    kubeletPort = await freePort();
    // the edge: an address the API server and pods dial, behind NAT, where nothing listens
    edge = createEdgeHost();
    // a pod on the cloud host: its own namespace, routed through this host to the edge address
    pod = createEdgeHost();
    execFileSync('ip', ['-n', pod.ns, 'route', 'add', `${edge.edgeIp}/32`, 'via', pod.hostIp]);
    // a previous cloud that died without stop(): the chain and a jump are already there
    nat('-N', chain);
    nat('-A', 'OUTPUT', '-p', 'tcp', '-j', chain);
    redirect = new IptablesRedirect(
      { chain, port: kubeletPort, toHost: '127.0.0.1', toPort: endpointPort },
      silentLogger(),
    );
    redirect.add(edge.edgeIp);
    await redirect.start();
    await redirect.settled();
  }, 60_000);

  afterAll(async () => {
    await redirect.stop().catch(() => undefined);
    // whatever failed above, no rule of ours may outlive the test
    for (const hook of ['OUTPUT', 'PREROUTING'])
      while (jumps(hook, chain) > 0) nat('-D', hook, '-p', 'tcp', '-j', chain);
    try {
      nat('-F', chain);
      nat('-X', chain);
    } catch {
      /* removed by stop() */
    }
    pod.remove();
    edge.remove();
    await new Promise((r) => endpoint.close(r));
  }, 60_000);

  it('streams redirect — one jump per hook even when a previous run left one behind', () => {
    expect(jumps('OUTPUT', chain)).toBe(1);
    expect(jumps('PREROUTING', chain)).toBe(1);
  });

  it('streams redirect — from this host (OUTPUT) the edge address on the kubelet port is the endpoint', async () => {
    expect(await dialFrom(undefined, edge.edgeIp, kubeletPort)).toBe('endpoint\n');
  });

  it('streams redirect — from a pod network namespace (PREROUTING) too, as metrics-server in a pod dials', async () => {
    expect(await dialFrom(pod.ns, edge.edgeIp, kubeletPort)).toBe('endpoint\n');
  });

  it('streams redirect — stop() removes both jumps and the chain; the pod no longer reaches the endpoint', async () => {
    await redirect.stop();
    expect(jumps('OUTPUT', chain)).toBe(0);
    expect(jumps('PREROUTING', chain)).toBe(0);
    expect(() => nat('-S', chain)).toThrow();
    expect(await dialFrom(pod.ns, edge.edgeIp, kubeletPort)).not.toBe('endpoint\n');
  });
});
