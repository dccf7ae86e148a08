import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import { StreamRelay, type RelayStream, type StreamSink } from '../../../src/cloud/streams/index.js';
import type { Pod } from '../../../src/edge/cri/index.js';
import { EdgeStreams } from '../../../src/edge/streams/index.js';
import {
  nodeName as toNodeName,
  type StreamEnd,
  type StreamTarget,
  type StreamWhat,
} from '../../../src/protocol/index.js';
import { ChannelHarness, eventually, podManifest, type Edge } from '../../support/channel.js';
import { SHELL_IMAGE, disposeStreamEnv, newStreamEnv, runPod, type StreamEnv } from './helpers.js';

/**
 * Both halves of the contract together: the cloud's StreamRelay on a real Hub, the edge's
 * EdgeStreams on a real Link (mTLS WebSocket), the pod synced from the control plane into the
 * edge store, its containers on the real containerd.
 */
const NODE = 'edge-streams-channel';
let h: ChannelHarness;
let edge: Edge;
let relay: StreamRelay;
let streams: EdgeStreams;
let env: StreamEnv;

beforeAll(async () => {
  env = await newStreamEnv('channel');
  h = new ChannelHarness();
  await h.start();
  const cloud = await h.startCloud();
  relay = new StreamRelay(cloud.hub, silentLogger(), createRegistry());
  cloud.hub.setStreamHandler(relay);
  edge = await h.startEdge(NODE);
  streams = new EdgeStreams(
    { nodeName: NODE, podLogsRoot: env.logsRoot },
    { store: edge.store, runtime: env.rt, logger: silentLogger(), registry: createRegistry() },
  );
  await streams.start();
  // the composition-root wiring the lead adds to src/cli/edge.ts
  edge.link.setHandler(streams);
  edge.link.on('offline', () => {
    streams.closeAll();
  });
  await h.core.createNamespacedPod({
    namespace: 'default',
    body: podManifest('chan', NODE, {
      // upstream's admission would add a projected token volume the pod manager (not here) prepares
      automountServiceAccountToken: false,
      containers: [
        { name: 'c', image: SHELL_IMAGE, command: ['sh', '-c', 'echo from-the-edge; exec sleep 100000'] },
      ],
    }),
  });
  const stored = await eventually(
    () => edge.store.get({ group: '', version: 'v1', kind: 'Pod', namespace: 'default', name: 'chan' }),
    'the pod in the edge store',
    60_000,
  );
  const pod = stored.object as unknown as Pod;
  // the pod manager is not part of this test: run the synced pod's containers through CRI
  await runPod(
    env,
    { ...pod, metadata: { ...pod.metadata, labels: { 'tether.dev/test-run': env.run } } },
    { store: false },
  );
}, 180_000);

afterAll(async () => {
  await streams.stop();
  await h.stop();
  await disposeStreamEnv(env);
}, 60_000);

interface Collected {
  readonly stream: RelayStream;
  readonly out: Map<number, Buffer[]>;
  readonly end: Promise<StreamEnd>;
}

function open(what: StreamWhat, target: StreamTarget = { namespace: 'default', pod: 'chan' }): Collected {
  const out = new Map<number, Buffer[]>();
  let resolveEnd!: (e: StreamEnd) => void;
  const end = new Promise<StreamEnd>((r) => (resolveEnd = r));
  const sink: StreamSink = {
    data: (channel, data, done) => {
      const l = out.get(channel) ?? [];
      l.push(Buffer.from(data));
      out.set(channel, l);
      done();
    },
    end: (e) => {
      resolveEnd(e);
    },
  };
  const r = relay.open(toNodeName(NODE), target, what, sink);
  if (!r.ok) throw r.error;
  return { stream: r.stream, out, end };
}

const text = (c: Collected, ch: number): string => Buffer.concat(c.out.get(ch) ?? []).toString();

describe('edge/streams through the real hub and link', () => {
  it('edge/streams — logs and exec with stdin and exit code, relayed by the cloud over the link', async () => {
    const logs = open({ type: 'logs', follow: false, timestamps: false, previous: false });
    expect(await logs.end).toEqual({ type: 'closed' });
    expect(text(logs, 1)).toBe('from-the-edge\n');

    const exec = open({
      type: 'exec',
      command: ['sh', '-c', 'wc -c; exit 42'],
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
    });
    expect(await exec.stream.write(0, Buffer.alloc(1024 * 1024, 'z'))).toBe(true);
    await exec.stream.closeInput();
    expect(await exec.end).toEqual({ type: 'exit', code: 42 });
    expect(text(exec, 1).trim()).toBe(String(1024 * 1024));
  });

  it('edge/streams — a pod of another node is refused; a link drop ends the stream on both sides', async () => {
    const refused = open(
      { type: 'logs', follow: false, timestamps: false, previous: false },
      {
        namespace: 'default',
        pod: 'not-here',
      },
    );
    const e = await refused.end;
    expect(e.type === 'error' ? e.message : '').toMatch(/pod "default\/not-here" not found on node/);

    const follow = open({ type: 'logs', follow: true, timestamps: false, previous: false });
    await eventually(() => text(follow, 1).includes('from-the-edge'), 'followed output');
    expect(streams.openStreams).toBe(1);
    edge.link.dropConnection();
    const end = await follow.end;
    expect(end).toEqual({ type: 'error', message: `the edge node "${NODE}" disconnected` });
    await eventually(() => streams.openStreams === 0, 'the edge released the stream');
  });
});
