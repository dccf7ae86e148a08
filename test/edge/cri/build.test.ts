import { describe, expect, it } from 'vitest';
import {
  buildContainerConfig,
  buildSandboxConfig,
  expand,
  podCgroupParent,
  parseResolvConf,
  podDns,
  type DnsOptions,
  type Pod,
  type VolumeMount,
} from '../../../src/edge/cri/index.js';

const UID = '6f1c6a55-2c5e-4b4b-9a53-1b1d1b2f2a10';
const CAPACITY = 8 * 1024 ** 3;

function webPod(over: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: UID,
      labels: { app: 'web' },
      annotations: { note: 'x' },
    },
    spec: {
      containers: [
        {
          name: 'nginx',
          image: 'localhost:5000/tether/shell:1',
          command: ['httpd', '-f', '-p', '$(PORT)'],
          args: ['-h', '/www/$(MISSING)', '$$(PORT)'],
          workingDir: '/www',
          ports: [
            { name: 'http', containerPort: 80, hostPort: 8080, protocol: 'TCP' },
            { containerPort: 53, protocol: 'UDP' },
          ],
          env: [
            { name: 'PORT', value: '80' },
            { name: 'URL', value: 'http://$(POD_IP):$(PORT)/' },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 's', key: 'password' } } },
            { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'cm', key: 'nope', optional: true } } },
          ],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
          volumeMounts: [
            { name: 'data', mountPath: '/www' },
            { name: 'conf', mountPath: '/etc/app/app.conf', subPath: 'app.conf', readOnly: true },
            { name: 'host', mountPath: '/host', mountPropagation: 'HostToContainer' },
          ],
          securityContext: {
            runAsUser: 1001,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
          },
        },
      ],
      volumes: [
        { name: 'data', emptyDir: {} },
        { name: 'conf', configMap: { name: 'app' } },
        { name: 'host', hostPath: { path: '/srv/shared' } },
      ],
      securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000, 5000] },
      terminationGracePeriodSeconds: 45,
      ...over,
    },
  };
}

const DNS: DnsOptions = {
  clusterDns: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  host: { servers: ['192.168.1.1'], searches: ['lan'], options: ['edns0'] },
};

describe('edge/cri sandbox config (kubelet generatePodSandboxConfig)', () => {
  it('edge/cri — a pod becomes the sandbox config kubelet would send', () => {
    const r = buildSandboxConfig(webPod(), { attempt: 1, dns: DNS, podLogsRoot: '/var/log/pods' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual({
      metadata: { name: 'web', namespace: 'shop', uid: UID, attempt: 1 },
      hostname: 'web',
      logDirectory: `/var/log/pods/shop_web_${UID}`,
      dns: {
        servers: ['10.96.0.10'],
        searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lan'],
        options: ['ndots:5'],
      },
      portMappings: [
        { protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' },
        { protocol: 'UDP', containerPort: 53, hostPort: 0, hostIp: '' },
      ],
      labels: {
        app: 'web',
        'io.kubernetes.pod.name': 'web',
        'io.kubernetes.pod.namespace': 'shop',
        'io.kubernetes.pod.uid': UID,
        'tether.dev/managed': 'true',
      },
      annotations: { note: 'x' },
      linux: {
        cgroupParent: `/kubepods/burstable/pod${UID}`,
        sysctls: {},
        securityContext: {
          namespaceOptions: { network: 'pod', pid: 'container', ipc: 'pod' },
          runAsUser: 1000,
          runAsGroup: 3000,
          readonlyRootfs: false,
          supplementalGroups: [2000, 4000, 5000],
          privileged: false,
          seccomp: { type: 'runtimeDefault' },
        },
      },
    });
  });

  it('edge/cri — host network: no hostname, node network namespace, host DNS for ClusterFirst', () => {
    const r = buildSandboxConfig(webPod({ hostNetwork: true, hostPID: true }), { dns: DNS });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.hostname).toBe('');
    expect(r.value.linux.securityContext.namespaceOptions).toEqual({
      network: 'node',
      pid: 'node',
      ipc: 'pod',
    });
    expect(r.value.dns).toEqual(DNS.host);
  });

  it('edge/cri — cgroup parents per QoS class, for cgroupfs and systemd drivers', () => {
    expect(podCgroupParent('Guaranteed', 'a-b')).toBe('/kubepods/poda-b');
    expect(podCgroupParent('Burstable', 'a-b')).toBe('/kubepods/burstable/poda-b');
    expect(podCgroupParent('BestEffort', 'a-b')).toBe('/kubepods/besteffort/poda-b');
    expect(podCgroupParent('Burstable', 'a-b', '/kubepods', 'systemd')).toBe(
      'kubepods-burstable-poda_b.slice',
    );
    expect(podCgroupParent('Guaranteed', 'a-b', '/kubepods', 'systemd')).toBe('kubepods-poda_b.slice');
    const guaranteed = webPod();
    guaranteed.spec.containers[0]!.resources = { limits: { cpu: '1', memory: '1Gi' } };
    const r = buildSandboxConfig(guaranteed, { cgroupRoot: '/edge' });
    expect(r.ok && r.value.linux.cgroupParent).toBe(`/edge/pod${UID}`);
  });

  it('edge/cri — sysctls, shareProcessNamespace and a privileged container reach the sandbox', () => {
    const p = webPod({ shareProcessNamespace: true });
    p.spec.securityContext = { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] };
    p.spec.containers[0]!.securityContext = { privileged: true };
    const r = buildSandboxConfig(p);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.linux.sysctls).toEqual({ 'net.core.somaxconn': '1024' });
    expect(r.value.linux.securityContext.namespaceOptions.pid).toBe('pod');
    expect(r.value.linux.securityContext.privileged).toBe(true);
    expect(r.value.dns).toBeUndefined();
  });

  it('edge/cri — a pod without uid is a POD_SPEC_INVALID error value', () => {
    const p = webPod();
    delete p.metadata.uid;
    const r = buildSandboxConfig(p);
    expect(!r.ok && r.error.code).toBe('POD_SPEC_INVALID');
  });

  it('edge/cri — long pod names are truncated to 63 characters without trailing - or .', () => {
    const p = webPod();
    p.metadata.name = `${'a'.repeat(62)}-bbbb`;
    const r = buildSandboxConfig(p);
    expect(r.ok && r.value.hostname).toBe('a'.repeat(62));
  });
});

describe('edge/cri pod DNS (kubelet GetPodDNS)', () => {
  it('edge/cri — dnsPolicy None takes dnsConfig only; options merge by name', () => {
    const p = webPod({
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['1.1.1.1'],
        searches: ['a.example'],
        options: [{ name: 'ndots', value: '2' }],
      },
    });
    expect(podDns(p, DNS)).toEqual({ servers: ['1.1.1.1'], searches: ['a.example'], options: ['ndots:2'] });
    const merged = podDns(
      webPod({ dnsConfig: { options: [{ name: 'ndots', value: '1' }, { name: 'single-request-reopen' }] } }),
      DNS,
    );
    expect(merged.options).toEqual(['ndots:1', 'single-request-reopen']);
  });

  it('edge/cri — ClusterFirstWithHostNet uses cluster DNS; no cluster DNS falls back to the host', () => {
    expect(podDns(webPod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), DNS).servers).toEqual([
      '10.96.0.10',
    ]);
    expect(podDns(webPod(), { ...DNS, clusterDns: [] })).toEqual(DNS.host);
    expect(podDns(webPod({ dnsPolicy: 'Default' }), DNS)).toEqual(DNS.host);
  });
});

describe('edge/cri resolv.conf', () => {
  it('edge/cri — nameservers, the last search/domain line and options are read; comments ignored', () => {
    const text = [
      '# generated',
      'domain old.example',
      'nameserver 192.168.1.1',
      'nameserver 10.0.0.53 # office',
      'search lan corp.example',
      'options edns0 ndots:2',
      '; nameserver 9.9.9.9',
      '',
    ].join('\n');
    expect(parseResolvConf(text)).toEqual({
      servers: ['192.168.1.1', '10.0.0.53'],
      searches: ['lan', 'corp.example'],
      options: ['edns0', 'ndots:2'],
    });
    expect(parseResolvConf('')).toEqual({ servers: [], searches: [], options: [] });
  });
});

describe('edge/cri container config (kubelet generateContainerConfig)', () => {
  const opts = {
    attempt: 2,
    memoryCapacityBytes: CAPACITY,
    podIP: '10.88.0.7',
    volumePaths: { data: '/var/lib/tether/pods/u/volumes/data', conf: '/var/lib/tether/pods/u/volumes/conf' },
    resolveValueFrom: (e: { name: string }) => (e.name === 'PASSWORD' ? 's3cret' : undefined),
    hash: 'abc123',
    annotations: { 'tether.dev/pre-stop': 'exec', 'io.kubernetes.container.restartCount': '99' },
  };

  it('edge/cri — a container becomes the container config kubelet would send', () => {
    const r = buildContainerConfig(webPod(), webPod().spec.containers[0]!, opts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = r.value;
    expect(c.metadata).toEqual({ name: 'nginx', attempt: 2 });
    expect(c.logPath).toBe('nginx/2.log');
    expect(c.image).toBe('localhost:5000/tether/shell:1');
    // $(VAR) expansion: defined → value, undefined → verbatim, $$ → literal $.
    expect(c.command).toEqual(['httpd', '-f', '-p', '80']);
    expect(c.args).toEqual(['-h', '/www/$(MISSING)', '$(PORT)']);
    expect(c.workingDir).toBe('/www');
    // URL refers to POD_IP before it is defined: left verbatim, as kubelet does.
    expect(c.envs).toEqual([
      { key: 'PORT', value: '80' },
      { key: 'URL', value: 'http://$(POD_IP):80/' },
      { key: 'POD_IP', value: '10.88.0.7' },
      { key: 'NS', value: 'shop' },
      { key: 'APP', value: 'web' },
      { key: 'PASSWORD', value: 's3cret' },
    ]);
    expect(c.mounts).toEqual([
      { containerPath: '/www', hostPath: opts.volumePaths.data, readonly: false, propagation: 'private' },
      {
        containerPath: '/etc/app/app.conf',
        hostPath: `${opts.volumePaths.conf}/app.conf`,
        readonly: true,
        propagation: 'private',
      },
      { containerPath: '/host', hostPath: '/srv/shared', readonly: false, propagation: 'hostToContainer' },
    ]);
    expect(c.labels).toEqual({
      'io.kubernetes.container.name': 'nginx',
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.pod.uid': UID,
      'tether.dev/managed': 'true',
    });
    expect(c.annotations).toMatchObject({
      'tether.dev/pre-stop': 'exec',
      'io.kubernetes.container.hash': 'abc123',
      'io.kubernetes.container.restartCount': '2',
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File',
      'io.kubernetes.pod.terminationGracePeriod': '45',
    });
    expect(JSON.parse(c.annotations['io.kubernetes.container.ports']!)).toHaveLength(2);
    expect(c.linux.resources).toEqual({
      cpuShares: 102,
      cpuQuota: 20000,
      cpuPeriod: 100000,
      memoryLimitInBytes: 134217728,
      // Burstable: 1000 - 1000*64Mi/8Gi = 1000 - 7.8 → 993 (Go truncation).
      oomScoreAdj: 993,
    });
    expect(c.linux.securityContext).toEqual({
      capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
      privileged: false,
      namespaceOptions: { network: 'pod', pid: 'container', ipc: 'pod' },
      runAsUser: 1001, // the container's value wins over the pod's
      runAsGroup: 3000, // inherited from the pod
      readonlyRootfs: true,
      supplementalGroups: [2000, 4000, 5000],
      noNewPrivs: true,
      seccomp: { type: 'unconfined' },
    });
  });

  it('edge/cri — envFrom is overridden by env and service links fill only the gaps', () => {
    const p = webPod();
    const c = { name: 'x', image: 'i', env: [{ name: 'A', value: 'env-$(B)' }] };
    p.spec.containers = [c];
    const r = buildContainerConfig(p, c, {
      memoryCapacityBytes: CAPACITY,
      envFrom: [
        { key: 'A', value: 'from-cm' },
        { key: 'B', value: 'b' },
      ],
      serviceEnv: [
        { key: 'B', value: 'svc' },
        { key: 'WEB_SERVICE_HOST', value: '10.96.0.5' },
      ],
    });
    expect(r.ok && r.value.envs).toEqual([
      { key: 'A', value: 'env-b' },
      { key: 'B', value: 'b' },
      { key: 'WEB_SERVICE_HOST', value: '10.96.0.5' },
    ]);
  });

  it('edge/cri — bad mounts are POD_SPEC_INVALID: unknown volume, escaping subPath, unprivileged Bidirectional', () => {
    const cases: VolumeMount[][] = [
      [{ name: 'nope', mountPath: '/x' }],
      [{ name: 'data', mountPath: '/x', subPath: '../../etc' }],
      [{ name: 'data', mountPath: '/x', subPath: '/etc' }],
      [{ name: 'host', mountPath: '/x', mountPropagation: 'Bidirectional' }],
    ];
    for (const volumeMounts of cases) {
      const p = webPod();
      const c = { ...p.spec.containers[0]!, volumeMounts };
      const r = buildContainerConfig(p, c, opts);
      expect(!r.ok && r.error.code).toBe('POD_SPEC_INVALID');
    }
  });

  it('edge/cri — seccomp profile: container field, then pod field; imageRef and tty pass through', () => {
    const p = webPod();
    p.spec.securityContext = { seccompProfile: { type: 'RuntimeDefault' } };
    const c = { name: 'x', image: 'i:1', tty: true, stdin: true };
    let r = buildContainerConfig(p, c, { memoryCapacityBytes: CAPACITY, imageRef: 'sha256:abc' });
    expect(r.ok && r.value.linux.securityContext.seccomp).toEqual({ type: 'runtimeDefault' });
    expect(r.ok && [r.value.image, r.value.tty, r.value.stdin, r.value.logPath]).toEqual([
      'sha256:abc',
      true,
      true,
      'x/0.log',
    ]);
    r = buildContainerConfig(
      p,
      { ...c, securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'prof.json' } } },
      { memoryCapacityBytes: CAPACITY },
    );
    expect(r.ok && r.value.linux.securityContext.seccomp).toEqual({
      type: 'localhost',
      localhostRef: 'prof.json',
    });
  });

  it('edge/cri — a container without image or with a bad quantity is an error value', () => {
    const p = webPod();
    expect(buildContainerConfig(p, { name: 'x' }, opts).ok).toBe(false);
    const bad = buildContainerConfig(
      p,
      { name: 'x', image: 'i', resources: { limits: { cpu: 'lots' } } },
      { memoryCapacityBytes: CAPACITY },
    );
    expect(!bad.ok && bad.error.code).toBe('INVALID_QUANTITY');
  });
});

describe('edge/cri $(VAR) expansion (upstream expansion_test.go)', () => {
  const vars: Record<string, string> = { VAR_A: 'A', VAR_B: 'B', VAR_EMPTY: '' };
  const lookup = (n: string): string | undefined => vars[n];
  it.each([
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(VAR_EMPTY)', ''],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$$$$$$$(VAR_A)', '$$$A'],
    ['$(VAR_A', '$(VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['$', '$'],
    ['$()', '$()'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['foo\\$(VAR_A)bar', 'foo\\Abar'],
    ['', ''],
  ])('edge/cri — expand %j → %j', (input, out) => {
    expect(expand(input, lookup)).toBe(out);
  });
});
