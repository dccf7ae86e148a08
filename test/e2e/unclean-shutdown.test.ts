import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelHarness, eventually } from '../support/channel.js';
import { kubectl } from '../support/controlplane.js';
import { createEdgeHost, type EdgeHost } from '../support/netns.js';
import { startNetnsEdge, type NetnsEdge } from './autonomy-support.js';

const NODE = 'edge-crash';

interface EventJson {
  metadata: { name: string };
  reason: string;
  message: string;
  type: string;
}

/**
 * Issue 10 (Done when: "the start-up check detects an unclean previous shutdown (SIGKILL) and
 * reports it in the Event and the status string"): a real edge process killed with SIGKILL —
 * no clean-shutdown marker — and started again; the cloud sees it as a Kubernetes Event on
 * the Node, read with kubectl. A clean stop (SIGTERM) before a restart must not be reported.
 */
describe('unclean shutdown reported to the cloud', () => {
  const h = new ChannelHarness();
  let host: EdgeHost;
  let edge: NetnsEdge | undefined;

  beforeAll(async () => {
    await h.start();
    host = createEdgeHost();
  });
  afterAll(async () => {
    await edge?.proc.kill('SIGKILL');
    host.remove();
    await h.stop();
  });

  it(
    'unclean shutdown — SIGKILL then restart gives a Node Event with shutdown=02; a SIGTERM restart does not',
    { timeout: 240_000 },
    async () => {
      const cloud = await h.startCloud({ host: host.hostIp, keepaliveMs: 500 });
      edge = await startNetnsEdge(h, cloud, host, NODE);
      const e = edge;
      const events = async (): Promise<EventJson[]> => {
        const r = await kubectl(h.cp, [
          'get',
          'events',
          '-n',
          'default',
          '--field-selector',
          `involvedObject.kind=Node,involvedObject.name=${NODE}`,
          '-o',
          'json',
        ]);
        return (JSON.parse(r.stdout) as { items: EventJson[] }).items.filter((ev) =>
          ev.reason.startsWith('EdgeHealth'),
        );
      };
      const unclean = (ev: EventJson): boolean => /\bshutdown=02\b/.test(ev.message);
      const fail = (what: string) => (err: unknown) => {
        throw new Error(`${what}: ${String(err)}\nedge output:\n${e.proc.output()}`);
      };

      // first start: the verdict event of the start-up check, and no unclean shutdown in it
      const first = await eventually(
        async () => {
          const evs = await events();
          return evs.length >= 1 ? evs : false;
        },
        'the first start-up event',
        90_000,
      ).catch(fail('first start'));
      expect(first.some(unclean)).toBe(false);
      const seen = new Set(first.map((ev) => ev.metadata.name));

      await e.proc.kill('SIGKILL');
      e.restart();
      const afterKill = await eventually(
        async () => {
          const fresh = (await events()).filter((ev) => !seen.has(ev.metadata.name));
          return fresh.some(unclean) ? fresh : false;
        },
        'an Event reporting the unclean shutdown',
        90_000,
      ).catch(fail('after SIGKILL'));
      const reported = afterKill.find(unclean);
      expect(reported?.type).toBe('Warning');
      expect(reported?.reason).toMatch(/^EdgeHealth(Degraded|Unhealthy)$/);
      for (const ev of afterKill) seen.add(ev.metadata.name);

      // the same status string is on the Node's EdgeHealthy condition
      const cond = await eventually(
        async () => {
          const n = await h.core.readNode({ name: NODE });
          const c = n.status?.conditions?.find((x) => x.type === 'EdgeHealthy');
          return c !== undefined && /\bshutdown=02\b/.test(c.message ?? '') ? c : false;
        },
        'EdgeHealthy condition naming the unclean shutdown',
        60_000,
      );
      expect(cond.status).toBe('False');

      // a clean stop leaves the marker: the next start is not reported as unclean
      await e.proc.kill('SIGTERM');
      expect(e.proc.child.exitCode).toBe(0);
      e.restart();
      const afterTerm = await eventually(
        async () => {
          const fresh = (await events()).filter((ev) => !seen.has(ev.metadata.name));
          return fresh.length > 0 ? fresh : false;
        },
        'the start-up event after a clean stop',
        90_000,
      ).catch(fail('after SIGTERM'));
      expect(afterTerm.some(unclean)).toBe(false);
    },
  );
});
