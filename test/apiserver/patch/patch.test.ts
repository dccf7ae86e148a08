import { describe, expect, it } from 'vitest';
import {
  applyPatch,
  patchErrorStatus,
  patchTypeFromContentType,
  type PatchType,
} from '../../../src/apiserver/patch/index.js';
import { goSyntaxError, goV } from '../../../src/apiserver/patch/gojson.js';

type J = Record<string, unknown>;
const POD = { group: '', version: 'v1', kind: 'Pod', isCustomResource: false };
const DEPLOY = { group: 'apps', version: 'v1', kind: 'Deployment', isCustomResource: false };
const NODE = { group: '', version: 'v1', kind: 'Node', isCustomResource: false };
const SVC = { group: '', version: 'v1', kind: 'Service', isCustomResource: false };
const CR = { group: 'devices.tether.io', version: 'v1', kind: 'Device', isCustomResource: true };

function ok(original: J, patch: unknown, type: PatchType = 'strategic', target = POD): J {
  const r = applyPatch(original, typeof patch === 'string' ? patch : JSON.stringify(patch), type, target);
  if (!r.ok) throw new Error(`unexpected ${r.error.status}: ${r.error.message}`);
  return r.value;
}
function fails(original: J, patch: unknown, type: PatchType = 'strategic', target = POD) {
  const r = applyPatch(original, typeof patch === 'string' ? patch : JSON.stringify(patch), type, target);
  if (r.ok) throw new Error(`expected failure, got ${JSON.stringify(r.value)}`);
  return r.error;
}

const pod = (): J => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x', 'y'] },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'nginx',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        volumeMounts: [{ name: 'v', mountPath: '/data' }],
      },
    ],
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'test', effect: 'NoSchedule' }],
    volumes: [{ name: 'v', emptyDir: {} }],
  },
});

describe('patch — content types', () => {
  it('patch — maps the three patch media types and ignores parameters', () => {
    expect(patchTypeFromContentType('application/json-patch+json')).toBe('json');
    expect(patchTypeFromContentType('application/merge-patch+json; charset=utf-8')).toBe('merge');
    expect(patchTypeFromContentType('application/strategic-merge-patch+json')).toBe('strategic');
    expect(patchTypeFromContentType('application/apply-patch+yaml')).toBeUndefined();
    expect(patchTypeFromContentType('application/json')).toBeUndefined();
  });
});

describe('patch — strategic merge', () => {
  it('strategic — merges containers by name, new items first (as in the kubectl patch docs)', () => {
    const out = ok(pod(), { spec: { containers: [{ name: 'sidecar', image: 'redis' }] } });
    const names = (out.spec as J).containers as J[];
    expect(names.map((c) => c.name)).toEqual(['sidecar', 'app']);
    expect(names[1]!.image).toBe('nginx');
  });

  it('strategic — merges inside a matched container: env by name, ports by containerPort', () => {
    const out = ok(pod(), {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'nginx:2',
            env: [
              { name: 'B', value: 'two' },
              { name: 'C', value: '3' },
            ],
            ports: [{ containerPort: 80, name: 'http' }],
          },
        ],
      },
    });
    const c = ((out.spec as J).containers as J[])[0]!;
    expect(c.image).toBe('nginx:2');
    expect(c.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
    expect(c.ports).toEqual([{ containerPort: 80, protocol: 'TCP', name: 'http' }]);
    expect(c.volumeMounts).toEqual([{ name: 'v', mountPath: '/data' }]);
  });

  it('strategic — tolerations have no merge key upstream: the list is replaced', () => {
    const out = ok(pod(), {
      spec: { tolerations: [{ key: 'disktype', value: 'ssd', effect: 'NoSchedule' }] },
    });
    expect((out.spec as J).tolerations).toEqual([{ key: 'disktype', value: 'ssd', effect: 'NoSchedule' }]);
  });

  it('strategic — node taints are replaced, node addresses merge by type', () => {
    const node = {
      metadata: { name: 'n' },
      spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] },
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'Hostname', address: 'n' },
        ],
      },
    };
    const out = ok(
      node,
      {
        spec: { taints: [{ key: 'b', effect: 'NoExecute' }] },
        status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] },
      },
      'strategic',
      NODE,
    );
    expect((out.spec as J).taints).toEqual([{ key: 'b', effect: 'NoExecute' }]);
    expect((out.status as J).addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.2' },
      { type: 'Hostname', address: 'n' },
    ]);
  });

  it('strategic — service ports merge by port', () => {
    const svc = { metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const out = ok(svc, { spec: { ports: [{ port: 443, targetPort: 8443 }] } }, 'strategic', SVC);
    expect((out.spec as J).ports).toEqual([
      { port: 80, targetPort: 8080 },
      { port: 443, targetPort: 8443 },
    ]);
  });

  it('strategic — deployment templates reuse the pod spec merge keys', () => {
    const d = {
      metadata: { name: 'd' },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'a', image: 'x' },
              { name: 'b', image: 'y' },
            ],
          },
        },
      },
    };
    const out = ok(
      d,
      { spec: { template: { spec: { containers: [{ name: 'b', image: 'z' }] } } } },
      'strategic',
      DEPLOY,
    );
    expect((((out.spec as J).template as J).spec as J).containers).toEqual([
      { name: 'a', image: 'x' },
      { name: 'b', image: 'z' },
    ]);
  });

  it('strategic — null deletes a field, unmatched nulls are ignored', () => {
    const out = ok(pod(), { metadata: { labels: { a: null, zz: null } } });
    expect((out.metadata as J).labels).toEqual({ b: '2' });
  });

  it('strategic — $patch: delete removes list items by merge key', () => {
    const out = ok(pod(), {
      spec: { containers: [{ name: 'app', env: [{ name: 'A', $patch: 'delete' }] }] },
    });
    expect(((out.spec as J).containers as J[])[0]!.env).toEqual([{ name: 'B', value: '2' }]);
  });

  it('strategic — $patch: replace in a list replaces it with the other items', () => {
    const out = ok(pod(), {
      spec: { containers: [{ name: 'only', image: 'busybox' }, { $patch: 'replace' }] },
    });
    expect((out.spec as J).containers).toEqual([{ name: 'only', image: 'busybox' }]);
  });

  it('strategic — $patch: replace and delete on maps', () => {
    const replaced = ok(pod(), { metadata: { labels: { $patch: 'replace', c: '3' } } });
    expect((replaced.metadata as J).labels).toEqual({ c: '3' });
    const deleted = ok(pod(), { metadata: { labels: { $patch: 'delete' } } });
    expect((deleted.metadata as J).labels).toEqual({});
  });

  it('strategic — $patch: merge inside a list is refused like upstream', () => {
    const e = fails(pod(), { spec: { containers: [{ $patch: 'merge' }] } });
    expect(e.status).toBe(500);
    expect(e.message).toBe('merging lists cannot yet be specified in the patch');
  });

  it('strategic — primitive merge lists (finalizers) union, $deleteFromPrimitiveList removes', () => {
    const added = ok(pod(), { metadata: { finalizers: ['z', 'x'] } });
    expect((added.metadata as J).finalizers).toEqual(['z', 'x', 'y']);
    const removed = ok(pod(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } });
    expect((removed.metadata as J).finalizers).toEqual(['y']);
  });

  it('strategic — $setElementOrder reorders primitive and keyed lists', () => {
    const prim = ok(pod(), { metadata: { '$setElementOrder/finalizers': ['y', 'x'] } });
    expect((prim.metadata as J).finalizers).toEqual(['y', 'x']);
    const base = pod();
    ((base.spec as J).containers as J[]).push({ name: 'second', image: 'b' });
    const keyed = ok(base, {
      spec: {
        '$setElementOrder/containers': [{ name: 'second' }, { name: 'app' }],
        containers: [{ name: 'app', image: 'nginx:3' }],
      },
    });
    const cs = (keyed.spec as J).containers as J[];
    expect(cs.map((c) => c.name)).toEqual(['second', 'app']);
    expect(cs[1]!.image).toBe('nginx:3');
  });

  it('strategic — $setElementOrder that contradicts the patch list is an error', () => {
    const e = fails(pod(), {
      spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'new', image: 'x' }] },
    });
    expect(e.status).toBe(500);
    expect(e.message).toContain("doesn't match $setElementOrder list");
  });

  it('strategic — $retainKeys clears the keys not listed (deployment strategy, per the docs)', () => {
    const d = {
      metadata: { name: 'd' },
      spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } },
    };
    const out = ok(
      d,
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      'strategic',
      DEPLOY,
    );
    expect((out.spec as J).strategy).toEqual({ type: 'Recreate' });
    const e = fails(
      d,
      { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } },
      'strategic',
      DEPLOY,
    );
    expect([e.status, e.message]).toEqual([400, 'invalid patch format of retainKeys']);
  });

  it('strategic — ownerReferences merge by uid', () => {
    const o = { metadata: { name: 'p', ownerReferences: [{ uid: '1', name: 'a' }] } };
    const out = ok(o, { metadata: { ownerReferences: [{ uid: '2', name: 'b' }] } });
    expect(((out.metadata as J).ownerReferences as J[]).map((r) => r.uid)).toEqual(['2', '1']);
  });

  it('strategic — an item without its merge key fails with mergepatch error text', () => {
    const e = fails(pod(), { spec: { containers: [{ image: 'nginx' }] } });
    expect(e.status).toBe(500);
    expect(e.message).toBe('map: map[image:nginx] does not contain declared merge key: name');
  });

  it('strategic — values added wholesale lose their directives and nulls (apimachinery removeDirectives)', () => {
    const out = ok(
      { metadata: { name: 'p' }, spec: {} },
      {
        spec: {
          containers: [
            { name: 'a', $patch: 'delete' },
            { name: 'b', image: null },
          ],
          nodeSelector: { $patch: 'replace' },
        },
      },
    );
    expect(out.spec).toEqual({ containers: [{ name: 'b' }] });
  });

  it('strategic — $deleteFromPrimitiveList works whatever the field strategy, and is a no-op on an absent field', () => {
    const svc = { metadata: { name: 's' }, spec: { externalIPs: ['1.1.1.1', '2.2.2.2'] } };
    const out = ok(svc, { spec: { '$deleteFromPrimitiveList/externalIPs': ['1.1.1.1'] } }, 'strategic', SVC);
    expect((out.spec as J).externalIPs).toEqual(['2.2.2.2']);
    const none = ok(
      { metadata: { name: 'p' } },
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } },
    );
    expect(none.metadata).toEqual({ name: 'p' });
  });

  it('strategic — custom resources are refused with upstream 415', () => {
    const e = fails({ metadata: { name: 'd' } }, { spec: {} }, 'strategic', CR);
    expect(e.status).toBe(415);
    expect(e.reason).toBe('UnsupportedMediaType');
    expect(e.message).toBe(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  });

  it('strategic — malformed and non-object bodies are 400 with encoding/json messages', () => {
    expect(fails(pod(), '{"spec":}').message).toBe("invalid character '}' looking for beginning of value");
    expect(fails(pod(), '[]').message).toBe(
      'json: cannot unmarshal array into Go value of type map[string]interface {}',
    );
    expect(fails(pod(), '{').status).toBe(400);
  });

  it('strategic — never mutates the original', () => {
    const original = pod();
    const copy = structuredClone(original);
    ok(original, { spec: { containers: [{ name: 'app', image: 'x' }] }, metadata: { labels: null } });
    expect(original).toEqual(copy);
  });
});

describe('patch — JSON patch', () => {
  it('json — add, replace, remove, copy, move and test in order', () => {
    const out = ok(
      pod(),
      [
        { op: 'add', path: '/metadata/labels/c', value: '3' },
        { op: 'replace', path: '/spec/containers/0/image', value: 'redis' },
        { op: 'remove', path: '/metadata/labels/a' },
        { op: 'copy', from: '/metadata/labels/b', path: '/metadata/labels/d' },
        { op: 'move', from: '/metadata/labels/d', path: '/metadata/labels/e' },
        { op: 'test', path: '/metadata/labels/e', value: '2' },
      ],
      'json',
    );
    expect((out.metadata as J).labels).toEqual({ b: '2', c: '3', e: '2' });
    expect(((out.spec as J).containers as J[])[0]!.image).toBe('redis');
  });

  it('json — failed test is 422 with upstream generic message', () => {
    const e = fails(pod(), [{ op: 'test', path: '/metadata/name', value: 'other' }], 'json');
    expect([e.status, e.reason]).toEqual([422, 'Invalid']);
    expect(e.message).toBe('the server rejected our request due to an error in our request');
    expect(e.detail).toBe('testing value /metadata/name failed: test failed');
  });

  it('json — v4 quirks: negative indices, replace of a missing key adds it, test null on missing', () => {
    const out = ok(
      pod(),
      [
        { op: 'replace', path: '/spec/containers/-1/image', value: 'last' },
        { op: 'replace', path: '/metadata/labels/new', value: 'n' },
        { op: 'test', path: '/metadata/missing', value: null },
      ],
      'json',
    );
    expect(((out.spec as J).containers as J[])[0]!.image).toBe('last');
    expect(((out.metadata as J).labels as J).new).toBe('n');
  });

  it('json — removing a missing key or adding under a missing parent is 422', () => {
    expect(fails(pod(), [{ op: 'remove', path: '/metadata/nope' }], 'json').status).toBe(422);
    expect(fails(pod(), [{ op: 'add', path: '/a/b/c', value: 1 }], 'json').status).toBe(422);
    expect(fails(pod(), [{ op: 'frobnicate', path: '/a' }], 'json').detail).toBe(
      'Unexpected kind: frobnicate',
    );
  });

  it('json — undecodable patch documents are 400 with kube-apiserver 1.34 messages', () => {
    expect(fails(pod(), { op: 'add' }, 'json').message).toBe(
      'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp',
    );
    expect(fails(pod(), '[{"op":"add",}]', 'json').message).toBe(
      "error decoding patch: invalid character '}' looking for beginning of object key string",
    );
    expect(fails(pod(), '[1]', 'json').message).toBe(
      'error decoding patch: json: cannot unmarshal number into Go value of type handlers.jsonPatchOp',
    );
    expect(fails(pod(), '[{"op":true}]', 'json').message).toBe(
      'error decoding patch: json: cannot unmarshal bool into Go struct field jsonPatchOp.op of type string',
    );
    expect(fails(pod(), '[null]', 'json').status).toBe(422);
    expect(ok(pod(), 'null', 'json')).toEqual(pod());
  });

  it('json — replacing the root with a list fails to decode as upstream reports it (422, cause on "patch")', () => {
    const e = fails(pod(), [{ op: 'replace', path: '', value: [1] }], 'json');
    const cause =
      'Invalid value: "[1]": couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';
    expect(patchErrorStatus(e)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: ` "" is invalid: patch: ${cause}`,
      reason: 'Invalid',
      details: { causes: [{ reason: 'FieldValueInvalid', message: cause, field: 'patch' }] },
      code: 422,
    });
  });

  it('json — Status bodies: generic 422 carries empty details, a Go error (500) no reason', () => {
    const generic = patchErrorStatus(fails(pod(), [{ op: 'test', path: '/kind', value: 'Node' }], 'json'));
    expect(generic).toMatchObject({ code: 422, reason: 'Invalid', details: {} });
    const internal = patchErrorStatus(fails(pod(), { spec: { containers: [{ image: 'x' }] } }));
    expect(internal).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'map: map[image:x] does not contain declared merge key: name',
      code: 500,
    });
  });

  it('json — more than 10000 operations is 413', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Pod' }));
    expect(fails(pod(), ops, 'json').status).toBe(413);
  });
});

describe('patch — JSON merge patch', () => {
  it('merge — objects merge, null deletes, lists are replaced', () => {
    const out = ok(pod(), { metadata: { labels: { a: null, c: '3' } }, spec: { tolerations: [] } }, 'merge');
    expect((out.metadata as J).labels).toEqual({ b: '2', c: '3' });
    expect((out.spec as J).tolerations).toEqual([]);
    expect(((out.spec as J).containers as J[]).length).toBe(1);
  });

  it('merge — nulls inside newly added objects are pruned (RFC 7386 §2)', () => {
    const out = ok({ metadata: { name: 'p' } }, { spec: { a: { b: null, c: 1 } } }, 'merge');
    expect(out.spec).toEqual({ a: { c: 1 } });
  });

  it('merge — undecodable documents are 400 with kube-apiserver 1.34 messages', () => {
    const e = fails(pod(), '{"a":', 'merge');
    expect([e.status, e.message]).toEqual([400, 'error decoding patch: unexpected end of JSON input']);
    expect(fails(pod(), '[]', 'merge').message).toBe(
      'error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}',
    );
    expect([fails(pod(), 'null', 'merge').status, fails(pod(), 'null', 'merge').message]).toEqual([
      400,
      'Invalid JSON Patch',
    ]);
  });

  it('merge — works for custom resources', () => {
    const out = ok({ spec: { x: 1 } }, { spec: { y: 2 } }, 'merge', CR);
    expect(out.spec).toEqual({ x: 1, y: 2 });
  });
});

describe('patch — Go renderings', () => {
  it('gojson — syntax error messages match encoding/json', () => {
    expect(goSyntaxError('')).toBe('unexpected end of JSON input');
    expect(goSyntaxError('{"a" 1}')).toBe("invalid character '1' after object key");
    expect(goSyntaxError('{a:1}')).toBe("invalid character 'a' looking for beginning of object key string");
    expect(goSyntaxError('[1,]')).toBe("invalid character ']' looking for beginning of value");
    expect(goSyntaxError('{"a":1 "b"}')).toBe("invalid character '\"' after object key:value pair");
    expect(goSyntaxError('tru')).toBe('unexpected end of JSON input');
    expect(goSyntaxError('trux')).toBe("invalid character 'x' in literal true (expecting 'e')");
    expect(goSyntaxError('01')).toBe("invalid character '1' after top-level value");
    expect(goSyntaxError('{"a":[1,2,{"b":null}]}')).toBeUndefined();
  });

  it('gojson — %v of maps sorts keys like fmt', () => {
    expect(goV({ b: [1, 'x'], a: { c: null, d: true } })).toBe('map[a:map[c:<nil> d:true] b:[1 x]]');
  });
});
