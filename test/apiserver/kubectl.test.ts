/**
 * Issue 3 "Done when": scripted sessions of the real kubectl binaries (1.27, 1.33 and the
 * default) against the embedded API server, for built-in resources and a custom resource.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  kc,
  kubectl,
  KUBECTL_VERSIONS,
  startTestServer,
  type KubectlVersion,
  type TestServer,
} from './harness.js';

const DEPLOY = (replicas: number, withEnv: boolean): string => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: localhost:5000/tether/shell:1
        command: ["httpd", "-f"]
${withEnv ? '        env:\n        - {name: MODE, value: "demo"}\n' : ''}`;

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              color: {type: string, default: blue}
              replicas: {type: integer}
              note: {type: string}
          status:
            type: object
            properties:
              replicas: {type: integer}
              conditions:
                type: array
                items:
                  type: object
                  properties:
                    type: {type: string}
                    status: {type: string}
`;

const WIDGET = (size: number, note: boolean): string => `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec:
  size: ${size}
  replicas: 1
${note ? '  note: hello\n' : ''}`;

/** `kubectl get -w` until a line matches, then stop it. */
function watchUntil(
  s: TestServer,
  version: KubectlVersion,
  args: string[],
  re: RegExp,
  action: () => Promise<unknown>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL_VERSIONS[version], args, {
      env: { PATH: process.env['PATH'] ?? '', HOME: s.home, KUBECONFIG: s.kubeconfigPath },
    });
    let out = '';
    let acted = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`watch output did not match ${String(re)}: ${out}`));
    }, 20_000);
    // With nothing to list kubectl prints nothing; act after a pause. (If the list has not
    // happened yet the new object is in it: the row shows up either way.)
    const actTimer = setTimeout(() => {
      if (!acted) {
        acted = true;
        void action();
      }
    }, 1500);
    child.on('exit', () => {
      clearTimeout(actTimer);
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // The first line is the initial listing: act once the watch is established.
      if (!acted && out.includes('\n')) {
        acted = true;
        void action();
      }
      if (re.test(out)) {
        clearTimeout(timer);
        clearTimeout(actTimer);
        child.kill('SIGTERM');
        resolve(out);
      }
    });
    child.on('error', reject);
  });
}

describe.each(['1.27', '1.33', 'default'] as const)('apiserver kubectl %s', (version) => {
  let s: TestServer;
  const k = (args: string[], stdin?: string): Promise<string> =>
    kc(s, args, { version, ...(stdin === undefined ? {} : { stdin }) });
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  it(`apiserver kubectl ${version} — apply creates, re-apply changes and prunes a field, unchanged when equal`, async () => {
    expect(await k(['apply', '-f', '-'], DEPLOY(2, true))).toContain('deployment.apps/web created');
    expect(await k(['apply', '-f', '-'], DEPLOY(2, true))).toContain('deployment.apps/web unchanged');
    expect(await k(['apply', '-f', '-'], DEPLOY(3, false))).toContain('deployment.apps/web configured');
    const d = JSON.parse(await k(['get', 'deploy', 'web', '-o', 'json']));
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0].env).toBeUndefined();
    expect(d.metadata.generation).toBe(2);
  });

  it(`apiserver kubectl ${version} — get -o wide/yaml/jsonpath, -l, --field-selector, -A`, async () => {
    await k(['create', 'namespace', 'other']);
    await k(['create', 'configmap', 'c1', '--from-literal=a=1']);
    await k(['create', 'configmap', 'c2', '-n', 'other', '--from-literal=b=2']);
    await k(['label', 'configmap', 'c1', 'tier=front']);
    const wide = await k(['get', 'deploy', '-o', 'wide']);
    expect(wide).toMatch(/NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/);
    expect(wide).toMatch(/web\s+0\/3/);
    expect(await k(['get', 'cm', 'c1', '-o', 'yaml'])).toMatch(/name: c1\n/);
    expect(await k(['get', 'cm', 'c1', '-o', 'jsonpath={.data.a}'])).toBe('1');
    expect(await k(['get', 'cm', '-l', 'tier=front', '-o', 'name'])).toBe('configmap/c1\n');
    expect(await k(['get', 'cm', '--field-selector', 'metadata.name=c1', '-o', 'name'])).toBe(
      'configmap/c1\n',
    );
    const all = await k(['get', 'cm', '-A']);
    expect(all).toMatch(/NAMESPACE\s+NAME\s+DATA\s+AGE/);
    expect(all).toMatch(/other\s+c2\s+1/);
  });

  it(`apiserver kubectl ${version} — get -w streams changes`, async () => {
    const out = await watchUntil(s, version, ['get', 'cm', '-w'], /watched\s+0\s+\S+\n/, () =>
      k(['create', 'configmap', 'watched']),
    );
    expect(out).toMatch(/watched\s+0/);
  });

  it(`apiserver kubectl ${version} — patch (strategic, merge, json), label, annotate, scale, edit`, async () => {
    await k([
      'patch',
      'deploy',
      'web',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"img:2"}]}}}}',
    ]);
    let d = JSON.parse(await k(['get', 'deploy', 'web', '-o', 'json']));
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect(d.spec.template.spec.containers[0].image).toBe('img:2');
    expect(d.spec.template.spec.containers[0].command).toEqual(['httpd', '-f']);
    await k(['patch', 'deploy', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"m":"1"}}}']);
    await k([
      'patch',
      'deploy',
      'web',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/replicas","value":5}]',
    ]);
    await k(['label', 'deploy', 'web', 'tier=back']);
    await k(['annotate', 'deploy', 'web', 'note=hi']);
    await k(['scale', 'deploy', 'web', '--replicas=1']);
    d = JSON.parse(await k(['get', 'deploy', 'web', '-o', 'json']));
    expect(d.metadata.labels).toMatchObject({ m: '1', tier: 'back' });
    expect(d.metadata.annotations.note).toBe('hi');
    expect(d.spec.replicas).toBe(1);
    const r = await kubectl(s, ['edit', 'deploy', 'web'], {
      version,
      env: {
        EDITOR: 'sed -i s/replicas:\\ 1/replicas:\\ 6/',
        KUBE_EDITOR: 'sed -i s/replicas:\\ 1/replicas:\\ 6/',
      },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('edited');
    expect(await k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('6');
    const bad = await kubectl(
      s,
      ['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":99}]'],
      { version },
    );
    expect(bad.code).not.toBe(0);
  });

  it(`apiserver kubectl ${version} — describe, api-resources, create secret`, async () => {
    const desc = await k(['describe', 'deploy', 'web']);
    expect(desc).toMatch(/Name:\s+web/);
    expect(desc).toMatch(/Replicas:\s+6 desired/);
    const res = await k(['api-resources']);
    expect(res).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(res).toMatch(
      /customresourcedefinitions\s+crd,crds\s+apiextensions.k8s.io\/v1\s+false\s+CustomResourceDefinition/,
    );
    await k(['create', 'secret', 'generic', 'sec', '--from-literal=pw=s3cret']);
    expect(await k(['get', 'secret', 'sec', '-o', 'jsonpath={.type} {.data.pw}'])).toBe(
      `Opaque ${Buffer.from('s3cret').toString('base64')}`,
    );
  });

  it(`apiserver kubectl ${version} — delete with --cascade and --grace-period`, async () => {
    await k(['apply', '-f', '-'], DEPLOY(1, false).replace(/name: web/, 'name: orphaned'));
    expect(await k(['delete', 'deploy', 'orphaned', '--cascade=orphan', '--wait=false'])).toContain(
      'deleted',
    );
    const o = JSON.parse(await k(['get', 'deploy', 'orphaned', '-o', 'json']));
    expect(o.metadata.finalizers).toEqual(['orphan']);
    expect(o.metadata.deletionTimestamp).toBeDefined();
    expect(await k(['delete', 'deploy', 'web', '--cascade=background'])).toContain(
      'deployment.apps "web" deleted',
    );
    expect((await kubectl(s, ['get', 'deploy', 'web'], { version })).stderr).toContain(
      'deployments.apps "web" not found',
    );
    await api(s, 'POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1' },
      spec: { nodeName: 'edge-1', containers: [{ name: 'c', image: 'img:1' }] },
    });
    await k(['delete', 'pod', 'p1', '--grace-period=30', '--wait=false']);
    const p = JSON.parse(await k(['get', 'pod', 'p1', '-o', 'json']));
    expect(p.metadata.deletionGracePeriodSeconds).toBe(30);
    await k(['delete', 'pod', 'p1', '--grace-period=0', '--force']);
    expect((await kubectl(s, ['get', 'pod', 'p1'], { version })).code).not.toBe(0);
  });

  it(`apiserver kubectl ${version} — a custom resource after applying its CRD`, async () => {
    expect(await k(['apply', '-f', '-'], CRD)).toContain(
      'customresourcedefinition.apiextensions.k8s.io/widgets.example.com created',
    );
    await k(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=20s']);
    expect(await k(['apply', '-f', '-'], WIDGET(3, true))).toContain('widget.example.com/w1 created');
    expect(await k(['apply', '-f', '-'], WIDGET(4, false))).toContain('widget.example.com/w1 configured');
    let w = JSON.parse(await k(['get', 'widget', 'w1', '-o', 'json']));
    expect(w.spec).toEqual({ size: 4, replicas: 1, color: 'blue' });
    const table = await k(['get', 'wd']);
    expect(table).toMatch(/NAME\s+SIZE/);
    expect(table).toMatch(/w1\s+4/);
    await k(['patch', 'wd', 'w1', '--type=merge', '-p', '{"spec":{"size":7}}']);
    await k(['patch', 'wd', 'w1', '--type=json', '-p', '[{"op":"add","path":"/spec/note","value":"x"}]']);
    const smp = await kubectl(s, ['patch', 'wd', 'w1', '-p', '{"spec":{"size":8}}'], { version });
    expect(smp.code).not.toBe(0);
    await k(['label', 'wd', 'w1', 'a=b']);
    await k(['annotate', 'wd', 'w1', 'x=y']);
    await k(['scale', 'wd', 'w1', '--replicas=3']);
    w = JSON.parse(await k(['get', 'wd', 'w1', '-o', 'json']));
    expect(w.spec).toMatchObject({ size: 7, note: 'x', replicas: 3 });
    expect(w.metadata.labels).toEqual({ a: 'b' });
    const invalid = await kubectl(s, ['apply', '-f', '-'], {
      version,
      stdin: WIDGET(0, false).replace('w1', 'w0'),
    });
    expect(invalid.stderr).toContain('spec.size');
    expect(invalid.stderr).toContain('should be greater than or equal to 1');
    const unknown = await kubectl(s, ['apply', '-f', '-'], {
      version,
      stdin: WIDGET(2, false).replace('w1', 'w9').replace('replicas: 1', 'bogus: 1'),
    });
    expect(unknown.stderr).toContain('unknown field "spec.bogus"');
    await api(s, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w1/status', {
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    await k(['wait', '--for=condition=Ready', 'widget/w1', '--timeout=20s']);
    expect(await k(['describe', 'wd', 'w1'])).toMatch(/Name:\s+w1/);
    const edit = await kubectl(s, ['edit', 'wd', 'w1'], {
      version,
      env: { KUBE_EDITOR: 'sed -i s/size:\\ 7/size:\\ 9/' },
    });
    expect(edit.stdout).toContain('edited');
    expect(await k(['get', 'wd', 'w1', '-o', 'jsonpath={.spec.size}'])).toBe('9');
    expect(await k(['explain', 'widget.spec'])).toContain('size');
    expect(await k(['delete', 'wd', 'w1'])).toContain('widget.example.com "w1" deleted');
    await k(['delete', 'crd', 'widgets.example.com']);
    expect((await kubectl(s, ['get', 'crd', 'widgets.example.com'], { version })).code).not.toBe(0);
  });

  it(`apiserver kubectl ${version} — explain uses the served OpenAPI`, async () => {
    const out = await k(['explain', 'deployment.spec.replicas']);
    expect(out).toContain('replicas');
  });
});

describe('apiserver kubectl typed clients', () => {
  it('apiserver kubectl typed clients — protobuf bodies (1.33) store the same objects as JSON bodies (1.27)', async () => {
    const s = await startTestServer();
    try {
      const strip = (o: any): unknown => {
        const m = o.metadata;
        for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'name']) Reflect.deleteProperty(m, k);
        if (m.labels?.app !== undefined) m.labels.app = 'x';
        const tpl = o.spec?.template;
        if (tpl !== undefined) {
          tpl.metadata.labels.app = 'x';
          o.spec.selector.matchLabels.app = 'x';
        }
        return o;
      };
      for (const [kind, args] of [
        ['deployment', ['create', 'deployment', 'NAME', '--image=img:1', '--port=80', '--replicas=2']],
        ['secret', ['create', 'secret', 'generic', 'NAME', '--from-literal=a=b']],
        ['configmap', ['create', 'configmap', 'NAME', '--from-literal=a=b']],
        ['serviceaccount', ['create', 'serviceaccount', 'NAME']],
      ] as const) {
        for (const v of ['1.27', '1.33'] as const) {
          await kc(
            s,
            args.map((a) => (a === 'NAME' ? `x${v.replace('.', '')}` : a)),
            { version: v },
          );
        }
        const a = JSON.parse(await kc(s, ['get', kind, 'x127', '-o', 'json']));
        const b = JSON.parse(await kc(s, ['get', kind, 'x133', '-o', 'json']));
        expect(strip(b), kind).toEqual(strip(a));
      }
    } finally {
      await s.stop();
    }
  });
});
