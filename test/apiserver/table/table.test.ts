import { describe, expect, it } from 'vitest';
import {
  findResults,
  humanDuration,
  parseJsonPath,
  toTable,
  type CrdPrinterColumn,
} from '../../../src/apiserver/table/index.js';
import { selectorString } from '../../../src/apiserver/table/index.js';

type J = Record<string, any>;
const NOW = new Date('2026-01-10T12:00:00Z');
const ago = (sec: number): string => new Date(NOW.getTime() - sec * 1000).toISOString();
const t = (kind: string, group = '', resource = kind.toLowerCase() + 's') => ({
  group,
  version: 'v1',
  kind,
  resource,
});

function table(kind: string, group: string, objects: J[], extra: J = {}): J {
  return toTable(
    t(kind, group),
    objects,
    { includeObject: 'Metadata', now: NOW, ...extra },
    { resourceVersion: '42' },
  );
}
const names = (tb: J): string[] => (tb.columnDefinitions as J[]).map((c) => String(c.name));
const wide = (tb: J): string[] =>
  (tb.columnDefinitions as J[]).filter((c) => c.priority === 1).map((c) => String(c.name));
const cells = (tb: J, i = 0): unknown[] => (tb.rows as J[])[i]!.cells as unknown[];

describe('table — HumanDuration', () => {
  it('humanDuration — boundaries match apimachinery duration.HumanDuration', () => {
    const s = 1000;
    const cases: [number, string][] = [
      [-2 * s, '<invalid>'],
      [-1 * s, '0s'],
      [0, '0s'],
      [5 * s, '5s'],
      [119 * s, '119s'],
      [120 * s, '2m'],
      [182 * s, '3m2s'],
      [599 * s, '9m59s'],
      [600 * s, '10m'],
      [179 * 60 * s, '179m'],
      [3 * 3600 * s, '3h'],
      [(3 * 3600 + 25 * 60) * s, '3h25m'],
      [8 * 3600 * s, '8h'],
      [47 * 3600 * s, '47h'],
      [48 * 3600 * s, '2d'],
      [51 * 3600 * s, '2d3h'],
      [8 * 24 * 3600 * s, '8d'],
      [729 * 24 * 3600 * s, '729d'],
      [730 * 24 * 3600 * s, '2y'],
      [(730 + 10) * 24 * 3600 * s, '2y10d'],
      [8 * 365 * 24 * 3600 * s, '8y'],
    ];
    for (const [ms, want] of cases) expect([ms, humanDuration(ms)]).toEqual([ms, want]);
  });
});

describe('table — pods', () => {
  const pod = (over: J = {}): J => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(300), uid: 'u1' },
    spec: { nodeName: 'edge-1', containers: [{ name: 'a' }, { name: 'b' }] },
    status: {
      phase: 'Running',
      podIP: '10.1.0.5',
      podIPs: [{ ip: '10.1.0.5' }],
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        { name: 'a', ready: true, restartCount: 0, state: { running: {} } },
        {
          name: 'b',
          ready: true,
          restartCount: 2,
          state: { running: {} },
          lastState: { terminated: { finishedAt: ago(65) } },
        },
      ],
    },
    ...over,
  });

  it('pods — columns, wide columns and a running pod row', () => {
    const tb = table('Pod', '', [pod()]);
    expect(names(tb)).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
      'IP',
      'Node',
      'Nominated Node',
      'Readiness Gates',
    ]);
    expect(wide(tb)).toEqual(['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    expect(cells(tb)).toEqual([
      'web',
      '2/2',
      'Running',
      '2 (65s ago)',
      '5m',
      '10.1.0.5',
      'edge-1',
      '<none>',
      '<none>',
    ]);
    expect(tb.columnDefinitions[0].format).toBe('name');
    expect(tb.rows[0].object).toEqual({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: pod().metadata,
    });
    expect(tb.metadata).toEqual({ resourceVersion: '42' });
    expect(tb.kind).toBe('Table');
    expect(tb.apiVersion).toBe('meta.k8s.io/v1');
  });

  it('pods — waiting reason, init containers, terminating, completed', () => {
    const waiting = pod({
      status: {
        phase: 'Pending',
        containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ImagePullBackOff' } } }],
      },
    });
    expect(cells(table('Pod', '', [waiting]))[2]).toBe('ImagePullBackOff');

    const init = pod({
      spec: { containers: [{ name: 'a' }], initContainers: [{ name: 'i1' }, { name: 'i2' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'i1', state: { terminated: { exitCode: 0 } } },
          { name: 'i2', state: { running: {} } },
        ],
      },
    });
    expect(cells(table('Pod', '', [init])).slice(1, 3)).toEqual(['0/1', 'Init:1/2']);

    const initFailed = pod({
      spec: { containers: [{ name: 'a' }], initContainers: [{ name: 'i1' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 3 } } }],
      },
    });
    expect(cells(table('Pod', '', [initFailed]))[2]).toBe('Init:ExitCode:3');

    const terminating = pod();
    terminating.metadata.deletionTimestamp = ago(1);
    expect(cells(table('Pod', '', [terminating]))[2]).toBe('Terminating');

    const done = pod({
      status: {
        phase: 'Succeeded',
        containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
      },
    });
    const tb = table('Pod', '', [done]);
    expect(cells(tb)[2]).toBe('Completed');
    expect(tb.rows[0].conditions).toEqual([
      {
        type: 'Completed',
        status: 'True',
        reason: 'Succeeded',
        message: 'The pod has completed successfully.',
      },
    ]);
  });

  it('pods — readiness gates and a pod without ip/node', () => {
    const p = pod({
      spec: { containers: [{ name: 'a' }], readinessGates: [{ conditionType: 'x' }, { conditionType: 'y' }] },
      status: { phase: 'Pending', conditions: [{ type: 'x', status: 'True' }] },
    });
    expect(cells(table('Pod', '', [p])).slice(5)).toEqual(['<none>', '<none>', '<none>', '1/2']);
  });

  it('pods — includeObject None and Object', () => {
    expect(toTable(t('Pod'), [pod()], { includeObject: 'None', now: NOW }, {}).rows).toEqual([
      expect.objectContaining({ object: null }),
    ]);
    const full: J = toTable(
      t('Pod'),
      [pod()],
      { includeObject: 'Object', now: NOW },
      { continue: 'c', remainingItemCount: 3 },
    );
    expect(full.rows[0].object).toEqual(pod());
    expect(full.metadata).toEqual({ continue: 'c', remainingItemCount: 3 });
  });
});

describe('table — nodes', () => {
  const node = (over: J = {}): J => ({
    metadata: {
      name: 'edge-1',
      creationTimestamp: ago(2 * 86400),
      labels: {
        'node-role.kubernetes.io/edge': '',
        'node-role.kubernetes.io/agent': '',
        'kubernetes.io/role': 'worker',
      },
    },
    spec: {},
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'InternalIP', address: '192.168.1.10' },
        { type: 'Hostname', address: 'edge-1' },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.0-tether',
        osImage: 'Debian GNU/Linux 12',
        kernelVersion: '6.1.0',
        containerRuntimeVersion: 'containerd://1.6.20',
      },
    },
    ...over,
  });
  it('nodes — status, roles, version and wide columns', () => {
    const tb = table('Node', '', [node()]);
    expect(names(tb)).toEqual([
      'Name',
      'Status',
      'Roles',
      'Age',
      'Version',
      'Internal-IP',
      'External-IP',
      'OS-Image',
      'Kernel-Version',
      'Container-Runtime',
    ]);
    expect(cells(tb)).toEqual([
      'edge-1',
      'Ready',
      'agent,edge,worker',
      '2d',
      'v1.32.0-tether',
      '192.168.1.10',
      '<none>',
      'Debian GNU/Linux 12',
      '6.1.0',
      'containerd://1.6.20',
    ]);
  });
  it('nodes — NotReady, Unknown and SchedulingDisabled', () => {
    const notReady = node();
    notReady.status.conditions = [{ type: 'Ready', status: 'False' }];
    notReady.spec.unschedulable = true;
    expect(cells(table('Node', '', [notReady]))[1]).toBe('NotReady,SchedulingDisabled');
    const unknown = node({ metadata: { name: 'x' }, status: {} });
    expect(cells(table('Node', '', [unknown])).slice(1, 5)).toEqual(['Unknown', '<none>', '<unknown>', '']);
    expect(cells(table('Node', '', [unknown])).slice(7)).toEqual(['<unknown>', '<unknown>', '<unknown>']);
  });
});

describe('table — simple kinds', () => {
  const md = (name: string) => ({ name, creationTimestamp: ago(45) });
  it('namespaces, configmaps, secrets, serviceaccounts, leases', () => {
    expect(cells(table('Namespace', '', [{ metadata: md('default'), status: { phase: 'Active' } }]))).toEqual(
      ['default', 'Active', '45s'],
    );
    const cm = table('ConfigMap', '', [
      { metadata: md('c'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } },
    ]);
    expect([names(cm), cells(cm)]).toEqual([
      ['Name', 'Data', 'Age'],
      ['c', 3, '45s'],
    ]);
    const sec = table('Secret', '', [{ metadata: md('s'), type: 'Opaque', data: { a: 'MQ==' } }]);
    expect([names(sec), cells(sec)]).toEqual([
      ['Name', 'Type', 'Data', 'Age'],
      ['s', 'Opaque', 1, '45s'],
    ]);
    const sa = table('ServiceAccount', '', [{ metadata: md('default'), secrets: [{ name: 't' }] }]);
    expect([names(sa), cells(sa)]).toEqual([
      ['Name', 'Secrets', 'Age'],
      ['default', 1, '45s'],
    ]);
    const lease = table('Lease', 'coordination.k8s.io', [
      { metadata: md('edge-1'), spec: { holderIdentity: 'edge-1' } },
    ]);
    expect([names(lease), cells(lease)]).toEqual([
      ['Name', 'Holder', 'Age'],
      ['edge-1', 'edge-1', '45s'],
    ]);
  });

  it('services — types, ports, external IPs and selector', () => {
    const svc = (spec: J, status: J = {}) => ({ metadata: md('s'), spec, status });
    const tb = table('Service', '', [
      svc({
        type: 'ClusterIP',
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
        selector: { k8s: 'dns', app: 'x' },
      }),
      svc({
        type: 'NodePort',
        clusterIPs: ['10.96.0.11'],
        ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }],
      }),
      svc({ type: 'LoadBalancer', clusterIPs: ['10.96.0.12'], ports: [] }),
      svc(
        { type: 'LoadBalancer', clusterIPs: ['10.96.0.13'], ports: [{ port: 443 }] },
        { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
      ),
      svc({ type: 'ExternalName', externalName: 'example.com' }),
    ]);
    expect(names(tb)).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
    expect(cells(tb, 0)).toEqual([
      's',
      'ClusterIP',
      '10.96.0.10',
      '<none>',
      '53/UDP,53/TCP',
      '45s',
      'app=x,k8s=dns',
    ]);
    expect(cells(tb, 1).slice(1, 5)).toEqual(['NodePort', '10.96.0.11', '<none>', '80:30080/TCP']);
    expect(cells(tb, 2).slice(3, 5)).toEqual(['<pending>', '<none>']);
    expect(cells(tb, 3).slice(3, 5)).toEqual(['1.2.3.4', '443/TCP']);
    expect(cells(tb, 4).slice(2, 4)).toEqual(['<none>', 'example.com']);
  });

  it('endpoints — up to three addresses and a "more" suffix', () => {
    const ep = {
      metadata: md('e'),
      subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }, { port: 81 }] }],
    };
    expect(cells(table('Endpoints', '', [ep]))).toEqual([
      'e',
      '10.0.0.1:80,10.0.0.2:80,10.0.0.1:81 + 1 more...',
      '45s',
    ]);
    expect(cells(table('Endpoints', '', [{ metadata: md('none') }]))[1]).toBe('<none>');
  });

  it('events — core/v1 and events.k8s.io/v1 print the same columns', () => {
    const core = {
      metadata: md('web.1'),
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{a}' },
      reason: 'Pulled',
      message: ' pulled ',
      type: 'Normal',
      source: { component: 'kubelet', host: 'edge-1' },
      firstTimestamp: ago(600),
      lastTimestamp: ago(30),
      count: 4,
    };
    const tb = table('Event', '', [core]);
    expect(names(tb)).toEqual([
      'Last Seen',
      'Type',
      'Reason',
      'Object',
      'Subobject',
      'Source',
      'Message',
      'First Seen',
      'Count',
      'Name',
    ]);
    expect(wide(tb)).toEqual(['Subobject', 'Source', 'First Seen', 'Count', 'Name']);
    expect(cells(tb)).toEqual([
      '30s',
      'Normal',
      'Pulled',
      'pod/web',
      'spec.containers{a}',
      'kubelet, edge-1',
      'pulled',
      '10m',
      4,
      'web.1',
    ]);
    const v1 = {
      metadata: md('web.2'),
      regarding: { kind: 'Pod', name: 'web' },
      reason: 'Started',
      note: 'started',
      type: 'Normal',
      eventTime: ago(90),
      reportingController: 'tether/edge',
      reportingInstance: 'edge-1',
    };
    expect(cells(table('Event', 'events.k8s.io', [v1]))).toEqual([
      '90s',
      'Normal',
      'Started',
      'pod/web',
      '',
      'tether/edge, edge-1',
      'started',
      '90s',
      1,
      'web.2',
    ]);
  });

  it('deployments, replicasets, daemonsets — ready counts, wide containers/images/selector', () => {
    const template = {
      spec: {
        containers: [
          { name: 'a', image: 'ia' },
          { name: 'b', image: 'ib' },
        ],
        nodeSelector: { edge: 'true' },
      },
    };
    const selector = {
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }],
    };
    const d = table('Deployment', 'apps', [
      {
        metadata: md('d'),
        spec: { replicas: 3, selector, template },
        status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
      },
    ]);
    expect(names(d)).toEqual([
      'Name',
      'Ready',
      'Up-to-date',
      'Available',
      'Age',
      'Containers',
      'Images',
      'Selector',
    ]);
    expect(cells(d)).toEqual(['d', '2/3', 3, 2, '45s', 'a,b', 'ia,ib', 'app=web,tier in (a,b)']);
    const rs = table('ReplicaSet', 'apps', [
      {
        metadata: md('r'),
        spec: { replicas: 2, selector: {}, template },
        status: { replicas: 2, readyReplicas: 1 },
      },
    ]);
    expect(names(rs)).toEqual([
      'Name',
      'Desired',
      'Current',
      'Ready',
      'Age',
      'Containers',
      'Images',
      'Selector',
    ]);
    expect(cells(rs)).toEqual(['r', 2, 2, 1, '45s', 'a,b', 'ia,ib', '<none>']);
    const ds = table('DaemonSet', 'apps', [
      {
        metadata: md('ds'),
        spec: { selector, template },
        status: {
          desiredNumberScheduled: 3,
          currentNumberScheduled: 3,
          numberReady: 2,
          updatedNumberScheduled: 3,
          numberAvailable: 2,
        },
      },
    ]);
    expect(names(ds)).toEqual([
      'Name',
      'Desired',
      'Current',
      'Ready',
      'Up-to-date',
      'Available',
      'Node Selector',
      'Age',
      'Containers',
      'Images',
      'Selector',
    ]);
    expect(cells(ds)).toEqual([
      'ds',
      3,
      3,
      2,
      3,
      2,
      'edge=true',
      '45s',
      'a,b',
      'ia,ib',
      'app=web,tier in (a,b)',
    ]);
  });

  it('selectors — operators render like labels.Selector.String()', () => {
    expect(
      selectorString({
        matchLabels: { z: '1' },
        matchExpressions: [
          { key: 'b', operator: 'NotIn', values: ['y', 'x'] },
          { key: 'a', operator: 'Exists' },
          { key: 'c', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('a,b notin (x,y),!c,z=1');
    expect(selectorString({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] })).toBeUndefined();
  });
});

describe('table — CRDs, custom resources and unknown kinds', () => {
  it('crds and unknown kinds — NAME and CREATED AT (RFC 3339)', () => {
    const crd = table('CustomResourceDefinition', 'apiextensions.k8s.io', [
      { metadata: { name: 'devices.devices.tether.io', creationTimestamp: '2026-01-01T08:00:00Z' } },
    ]);
    expect(names(crd)).toEqual(['Name', 'Created At']);
    expect(crd.columnDefinitions[1].type).toBe('date');
    expect(cells(crd)).toEqual(['devices.devices.tether.io', '2026-01-01T08:00:00Z']);
    expect(cells(table('Widget', 'example.com', [{ metadata: { name: 'w' } }]))).toEqual([
      'w',
      '0001-01-01T00:00:00Z',
    ]);
  });

  it('custom resources — printer columns with the JSONPath subset and typed cells', () => {
    const columns: CrdPrinterColumn[] = [
      { name: 'Node', type: 'string', jsonPath: '.spec.nodeName' },
      {
        name: 'Protocol',
        type: 'string',
        jsonPath: '.spec.protocol.type',
        priority: 1,
        description: 'How we talk',
      },
      { name: 'First', type: 'string', jsonPath: '.status.properties[0].name' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Count', type: 'integer', jsonPath: '.status.count' },
      { name: 'Ratio', type: 'number', jsonPath: '.status.ratio' },
      { name: 'On', type: 'boolean', jsonPath: '.spec.enabled' },
      { name: 'Labels', type: 'string', jsonPath: '.metadata.labels' },
      { name: 'Missing', type: 'string', jsonPath: '.spec.nothing.here' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ];
    const dev = {
      metadata: { name: 'thermo-1', creationTimestamp: ago(3700), labels: { b: '<2>', a: '1' } },
      spec: { nodeName: 'edge-1', protocol: { type: 'modbus' }, enabled: true },
      status: {
        properties: [{ name: 'temperature' }],
        conditions: [
          { type: 'Synced', status: 'False' },
          { type: 'Ready', status: 'True' },
        ],
        count: 7.9,
        ratio: 0.5,
      },
    };
    const tb: J = toTable(
      t('Device', 'devices.tether.io'),
      [dev],
      { includeObject: 'Metadata', printerColumns: columns, now: NOW },
      {},
    );
    expect(names(tb)).toEqual(['Name', ...columns.map((c) => c.name)]);
    expect(tb.columnDefinitions[1].description).toBe(
      'Custom resource definition column (in JSONPath format): .spec.nodeName',
    );
    expect(tb.columnDefinitions[2]).toEqual({
      name: 'Protocol',
      type: 'string',
      format: '',
      description: 'How we talk',
      priority: 1,
    });
    expect(cells(tb)).toEqual([
      'thermo-1',
      'edge-1',
      'modbus',
      'temperature',
      'True',
      7,
      0.5,
      true,
      '{"a":"1","b":"\\u003c2\\u003e"}',
      null,
      '61m',
    ]);
  });

  it('custom resources — no printer columns means NAME and AGE', () => {
    const tb: J = toTable(
      t('Device', 'devices.tether.io'),
      [{ metadata: { name: 'd', creationTimestamp: ago(10) } }],
      { includeObject: 'Metadata', printerColumns: [], now: NOW },
      {},
    );
    expect(names(tb)).toEqual(['Name', 'Age']);
    expect(cells(tb)).toEqual(['d', '10s']);
  });

  it('jsonpath — parses the CRD subset and rejects the rest', () => {
    expect(parseJsonPath('.a.b')).toEqual([
      { kind: 'field', name: 'a' },
      { kind: 'field', name: 'b' },
    ]);
    expect(parseJsonPath("{.metadata.labels['app.kubernetes.io/name']}")).toEqual([
      { kind: 'field', name: 'metadata' },
      { kind: 'field', name: 'labels' },
      { kind: 'field', name: 'app.kubernetes.io/name' },
    ]);
    expect(parseJsonPath('..a')).toBeUndefined();
    expect(parseJsonPath('.a[?(@.x > 1)]')).toBeUndefined();
    const doc = {
      items: [
        { n: 'a', v: 1 },
        { n: 'b', v: 2 },
      ],
    };
    expect(findResults(doc, parseJsonPath('.items[*].v')!)).toEqual([1, 2]);
    expect(findResults(doc, parseJsonPath('.items[-1].n')!)).toEqual(['b']);
    expect(findResults(doc, parseJsonPath(".items[?(@.n!='a')].v")!)).toEqual([2]);
    expect(findResults(doc, parseJsonPath('.items[5].n')!)).toEqual([]);
  });
});
