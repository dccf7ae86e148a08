/**
 * Events are one resource with two views, as upstream (issue 3, docs/compatibility.md): an
 * Event written through core/v1 is read, listed and watched through events.k8s.io/v1 with the
 * fields renamed, and the other way round; validation as pkg/apis/core/validation/events.go.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, kc, startTestServer, watchEvents, type TestServer } from './harness.js';

const CORE = '/api/v1/namespaces/default/events';
const V1 = '/apis/events.k8s.io/v1/namespaces/default/events';

describe('apiserver — events', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('events — a core Event is served by events.k8s.io/v1 converted, and the reverse', async () => {
    const c = await api(s, 'POST', CORE, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.1' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', apiVersion: 'v1' },
      reason: 'Started',
      message: 'Started container web',
      source: { component: 'tether-edge', host: 'edge-1' },
      count: 1,
      type: 'Normal',
    });
    expect(c.status).toBe(201);
    // Go writes these fields without omitempty
    expect(c.body).toMatchObject({
      eventTime: null,
      firstTimestamp: null,
      reportingComponent: '',
      reportingInstance: '',
    });
    const v = await api(s, 'GET', `${V1}/web.1`);
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      regarding: { kind: 'Pod', name: 'web' },
      note: 'Started container web',
      deprecatedSource: { component: 'tether-edge', host: 'edge-1' },
      deprecatedCount: 1,
      eventTime: null,
      type: 'Normal',
    });
    expect(v.body.involvedObject).toBeUndefined();
    expect(v.body.message).toBeUndefined();

    const n = await api(s, 'POST', V1, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web.2' },
      eventTime: '2026-11-26T21:00:00.000000Z',
      reportingController: 'tether.io/edge',
      reportingInstance: 'edge-1',
      action: 'Pulling',
      reason: 'Pulling',
      note: 'Pulling image',
      type: 'Normal',
      regarding: { kind: 'Pod', namespace: 'default', name: 'web' },
    });
    expect(n.status).toBe(201);
    expect(n.body.note).toBe('Pulling image');
    const core = await api(s, 'GET', `${CORE}/web.2`);
    expect(core.body).toMatchObject({
      apiVersion: 'v1',
      involvedObject: { name: 'web' },
      message: 'Pulling image',
      reportingComponent: 'tether.io/edge',
      reportingInstance: 'edge-1',
    });
    expect(core.body.note).toBeUndefined();
    const list = await api(s, 'GET', `${V1}?fieldSelector=regarding.name%3Dweb`);
    expect(list.body.items.map((e: { metadata: { name: string } }) => e.metadata.name).sort()).toEqual([
      'web.1',
      'web.2',
    ]);
    const out = await kc(s, ['get', 'events.events.k8s.io', '-o', 'name']);
    expect(out.split('\n').filter((l) => l !== '')).toHaveLength(2);
  });

  it('events — a watch on events.k8s.io/v1 sees Events written through core/v1', async () => {
    const rv = (await api(s, 'GET', V1)).body.metadata.resourceVersion as string;
    const watching = watchEvents(s, `${V1}?watch=1&resourceVersion=${rv}`, (evs) => evs.length >= 1, 15_000);
    const c = await api(s, 'POST', CORE, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.3' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' },
      reason: 'Killing',
      message: 'Stopping container web',
      type: 'Normal',
    });
    expect(c.status).toBe(201);
    const { events } = await watching;
    expect(events[0]).toMatchObject({
      type: 'ADDED',
      object: { apiVersion: 'events.k8s.io/v1', note: 'Stopping container web' },
    });
  });

  it('events — validation: namespace must match the involved object; events.k8s.io/v1 creation is strict', async () => {
    const bad = await api(s, 'POST', CORE, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'bad.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', namespace: 'other', name: 'x' },
      reason: 'X',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe(
      'Event "bad.1" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    );
    const strict = await api(s, 'POST', V1, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'bad.2' },
      regarding: { kind: 'Pod', namespace: 'default', name: 'x' },
      reason: 'X',
      type: 'Odd',
    });
    expect(strict.status).toBe(422);
    expect(strict.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['eventTime', 'type']);
    expect((await api(s, 'GET', `${CORE}/bad.2`)).status).toBe(404);
  });
});
