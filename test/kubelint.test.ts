import { describe, expect, it } from 'vitest';
import { CHECK_NAMES, UNDOCUMENTED_EXEMPTION, expectLintClean, lintObjects } from './harness/kubelint';

// Fixtures are plain objects, as synthesized manifests are. `base()` is a set that passes every check; each case
// below breaks (or keeps clean) one thing in a fresh copy.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const NS = 'shop';
const LABELS = { 'app.kubernetes.io/name': 'web' };

function appContainer(): Obj {
  return {
    name: 'web',
    image: 'ghcr.io/acme/web:1.4.2',
    ports: [{ name: 'http', containerPort: 8080 }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    livenessProbe: { httpGet: { path: '/livez', port: 'http' } },
    readinessProbe: { httpGet: { path: '/readyz', port: 8080 } },
    startupProbe: { tcpSocket: { port: 'http' } },
  };
}

function podSpec(): Obj {
  return {
    serviceAccountName: 'web',
    securityContext: { runAsUser: 65532, runAsNonRoot: true },
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{
          weight: 100,
          podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...LABELS } } },
        }],
      },
    },
    containers: [appContainer()],
  };
}

function deployment(name = 'web'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: 2,
      selector: { matchLabels: { ...LABELS } },
      template: { metadata: { labels: { ...LABELS } }, spec: podSpec() },
    },
  };
}

function service(): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: NS },
    spec: { selector: { ...LABELS }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
}

function serviceAccount(name = 'web', namespace = NS): Obj {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } };
}

function pdb(): Obj {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: NS },
    spec: { maxUnavailable: 1, selector: { matchLabels: { ...LABELS } }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  };
}

function hpa(minReplicas: number): Obj {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    },
  };
}

/** ServiceAccount, Deployment, Service and PDB of one app: clean under every check. */
function base(): { sa: Obj; deploy: Obj; svc: Obj; pdb: Obj; all: Obj[] } {
  const parts = { sa: serviceAccount(), deploy: deployment(), svc: service(), pdb: pdb() };
  return { ...parts, all: [parts.sa, parts.deploy, parts.svc, parts.pdb] };
}

const podOf = (workload: Obj): Obj => workload.spec.template.spec;
const mainContainer = (workload: Obj): Obj => podOf(workload).containers[0];

/** A base set with one change applied by `edit`. */
function variant(edit: (b: ReturnType<typeof base>) => Obj[] | void): Obj[] {
  const b = base();
  return edit(b) ?? b.all;
}

function job(ttl?: number): Obj {
  const spec: Obj = {
    backoffLimit: 2,
    template: { metadata: { labels: { 'app.kubernetes.io/name': 'migrate' } }, spec: { ...podSpec(), affinity: undefined, restartPolicy: 'Never' } },
  };
  if (ttl !== undefined) spec.ttlSecondsAfterFinished = ttl;
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: NS }, spec };
}

function cronJob(ttl?: number): Obj {
  const j = job(ttl);
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'report', namespace: NS },
    spec: { schedule: '0 * * * *', jobTemplate: { spec: j.spec } },
  };
}

function hostPathMount(workload: Obj, path: string, mount = true): void {
  podOf(workload).volumes = [{ name: 'host', hostPath: { path } }];
  if (mount) mainContainer(workload).volumeMounts = [{ name: 'host', mountPath: '/host' }];
}

interface Case {
  /** The kube-linter check under test. */
  check: string;
  /** Object sets each of which must produce at least one finding of `check`. */
  trigger: Array<[string, () => Obj[]]>;
  /** Object sets which must produce no finding at all. */
  clean: Array<[string, () => Obj[]]>;
}

const CASES: Case[] = [
  {
    check: 'dangling-service',
    trigger: [
      ['selector matches no pod template', () => variant((b) => { b.svc.spec.selector = { 'app.kubernetes.io/name': 'api' }; })],
      ['no selector', () => variant((b) => { delete b.svc.spec.selector; })],
      ['matching pods only in another namespace', () => variant((b) => { b.svc.metadata.namespace = 'other'; return [b.svc, ...b.all.filter((o) => o !== b.svc)]; })],
    ],
    clean: [
      ['selector matches the deployment', () => base().all],
      ['ExternalName service needs no selector', () => [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: NS }, spec: { type: 'ExternalName', externalName: 'db.example.com' } }]],
    ],
  },
  {
    check: 'deprecated-service-account-field',
    trigger: [
      ['only serviceAccount set', () => variant((b) => { const p = podOf(b.deploy); p.serviceAccount = 'web'; delete p.serviceAccountName; })],
      ['serviceAccount differs from serviceAccountName', () => variant((b) => { podOf(b.deploy).serviceAccount = 'legacy'; })],
    ],
    clean: [['serviceAccount equal to serviceAccountName', () => variant((b) => { podOf(b.deploy).serviceAccount = 'web'; })]],
  },
  {
    check: 'docker-sock',
    trigger: [['docker.sock hostPath mounted', () => variant((b) => hostPathMount(b.deploy, '/var/run/docker.sock'))]],
    clean: [['docker.sock volume declared but never mounted', () => variant((b) => hostPathMount(b.deploy, '/var/run/docker.sock', false))]],
  },
  {
    check: 'drop-net-raw-capability',
    trigger: [
      ['capabilities set without dropping NET_RAW', () => variant((b) => { mainContainer(b.deploy).securityContext.capabilities = { drop: ['CHOWN'] }; })],
      ['NET_RAW added', () => variant((b) => { mainContainer(b.deploy).securityContext.capabilities = { add: ['NET_RAW'], drop: ['NET_RAW'] }; })],
      ['ALL added', () => variant((b) => { mainContainer(b.deploy).securityContext.capabilities = { add: ['all'], drop: ['NET_RAW'] }; })],
    ],
    clean: [
      ['drop ALL', () => base().all],
      ['drop NET_RAW', () => variant((b) => { mainContainer(b.deploy).securityContext.capabilities = { drop: ['NET_RAW'] }; })],
      ['no capabilities block at all (kube-linter only checks a declared one)', () => variant((b) => { delete mainContainer(b.deploy).securityContext.capabilities; })],
    ],
  },
  {
    check: 'duplicate-env-var',
    trigger: [['same name twice', () => variant((b) => { mainContainer(b.deploy).env = [{ name: 'PORT', value: '1' }, { name: 'PORT', value: '2' }]; })]],
    clean: [['distinct names', () => variant((b) => { mainContainer(b.deploy).env = [{ name: 'PORT', value: '1' }, { name: 'HOST', value: 'x' }]; })]],
  },
  {
    check: 'env-var-secret',
    trigger: [
      ['literal value in a *SECRET* variable', () => variant((b) => { mainContainer(b.deploy).env = [{ name: 'DB_SECRET', value: 'hunter2' }]; })],
      ['case-insensitive name match', () => variant((b) => { mainContainer(b.deploy).env = [{ name: 'clientSecret', value: 'x' }]; })],
    ],
    clean: [
      ['secretKeyRef', () => variant((b) => { mainContainer(b.deploy).env = [{ name: 'DB_SECRET', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }]; })],
      ['empty value', () => variant((b) => { mainContainer(b.deploy).env = [{ name: 'DB_SECRET', value: '' }]; })],
    ],
  },
  ...(['hostIPC', 'hostNetwork', 'hostPID'] as const).map((field): Case => ({
    check: { hostIPC: 'host-ipc', hostNetwork: 'host-network', hostPID: 'host-pid' }[field],
    trigger: [[`${field}: true`, () => variant((b) => { podOf(b.deploy)[field] = true; })]],
    clean: [[`${field}: false`, () => variant((b) => { podOf(b.deploy)[field] = false; })]],
  })),
  {
    check: 'invalid-target-ports',
    trigger: [
      ['container port name with upper case and underscore', () => variant((b) => { mainContainer(b.deploy).ports[0].name = 'HTTP_Port'; })],
      ['container port name longer than 15 characters', () => variant((b) => { mainContainer(b.deploy).ports.push({ name: 'metrics-exporter-port', containerPort: 9090 }); })],
      ['service targetPort name that is not a valid port name', () => variant((b) => { b.svc.spec.ports[0].targetPort = 'web--http'; })],
      ['service targetPort number out of range', () => variant((b) => { b.svc.spec.ports[0].targetPort = 70000; })],
    ],
    clean: [
      ['named targetPort', () => base().all],
      ['numeric targetPort', () => variant((b) => { b.svc.spec.ports[0].targetPort = 8080; })],
      ['no targetPort', () => variant((b) => { delete b.svc.spec.ports[0].targetPort; })],
    ],
  },
  {
    check: 'latest-tag',
    trigger: [
      [':latest', () => variant((b) => { mainContainer(b.deploy).image = 'nginx:latest'; })],
      ['no tag', () => variant((b) => { mainContainer(b.deploy).image = 'nginx'; })],
      ['registry port but no tag', () => variant((b) => { mainContainer(b.deploy).image = 'registry.local:5000/acme/web'; })],
      ['untagged init container', () => variant((b) => { podOf(b.deploy).initContainers = [{ ...appContainer(), name: 'init', image: 'busybox', livenessProbe: undefined, readinessProbe: undefined, startupProbe: undefined }]; })],
    ],
    clean: [
      ['explicit tag', () => base().all],
      ['digest', () => variant((b) => { mainContainer(b.deploy).image = `ghcr.io/acme/web@sha256:${'a'.repeat(64)}`; })],
      ['registry port and tag', () => variant((b) => { mainContainer(b.deploy).image = 'registry.local:5000/acme/web:1.0'; })],
    ],
  },
  {
    check: 'liveness-port',
    trigger: [
      ['probe on an unexposed port number', () => variant((b) => { mainContainer(b.deploy).livenessProbe = { httpGet: { path: '/', port: 9090 } }; })],
      ['probe on an unknown port name', () => variant((b) => { mainContainer(b.deploy).livenessProbe = { tcpSocket: { port: 'admin' } }; })],
      ['probe on a UDP port', () => variant((b) => { mainContainer(b.deploy).ports = [{ name: 'http', containerPort: 8080, protocol: 'UDP' }]; })],
    ],
    clean: [
      ['probe on the named port', () => base().all],
      ['exec probe', () => variant((b) => { mainContainer(b.deploy).livenessProbe = { exec: { command: ['true'] } }; })],
    ],
  },
  {
    check: 'mismatching-selector',
    trigger: [
      ['selector does not match template labels', () => variant((b) => { b.deploy.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'api' } }; })],
      ['no selector on a Deployment', () => variant((b) => { delete b.deploy.spec.selector; })],
      ['matchExpressions excluding the template', () => variant((b) => {
        b.deploy.spec.selector = { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'NotIn', values: ['web'] }] };
      })],
    ],
    clean: [
      ['matchLabels matching', () => base().all],
      ['matchExpressions matching', () => variant((b) => {
        b.deploy.spec.selector = { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['web', 'api'] }] };
        // pdb-min-available (like kube-linter) cannot read a matchExpressions workload selector; use maxUnavailable only.
      })],
      ['a Job needs no selector', () => [serviceAccount(), job(600)]],
    ],
  },
  {
    check: 'no-anti-affinity',
    trigger: [
      ['2 replicas, no affinity', () => variant((b) => { delete podOf(b.deploy).affinity; })],
      ['anti-affinity with empty terms', () => variant((b) => { podOf(b.deploy).affinity = { podAntiAffinity: {} }; })],
      ['wrong topology key', () => variant((b) => {
        podOf(b.deploy).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey = 'topology.kubernetes.io/zone';
      })],
      ['selector that does not select the pods', () => variant((b) => {
        podOf(b.deploy).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector = { matchLabels: { app: 'x' } };
      })],
    ],
    clean: [
      ['preferred hostname anti-affinity on own labels', () => base().all],
      ['required hostname anti-affinity', () => variant((b) => {
        podOf(b.deploy).affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...LABELS } } }] } };
      })],
      ['a single replica needs none', () => variant((b) => { b.deploy.spec.replicas = 1; delete podOf(b.deploy).affinity; })],
    ],
  },
  {
    check: 'no-extensions-v1beta',
    trigger: [['extensions/v1beta1 Ingress', () => [{ apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'web', namespace: NS }, spec: {} }]]],
    clean: [['networking.k8s.io/v1 Ingress', () => [{
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: NS },
      spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    }]]],
  },
  {
    check: 'no-read-only-root-fs',
    trigger: [
      ['readOnlyRootFilesystem false', () => variant((b) => { mainContainer(b.deploy).securityContext.readOnlyRootFilesystem = false; })],
      ['readOnlyRootFilesystem unset', () => variant((b) => { delete mainContainer(b.deploy).securityContext.readOnlyRootFilesystem; })],
    ],
    clean: [['readOnlyRootFilesystem true', () => base().all]],
  },
  {
    check: 'non-existent-service-account',
    trigger: [
      ['no such ServiceAccount', () => variant((b) => { podOf(b.deploy).serviceAccountName = 'ghost'; })],
      ['ServiceAccount only in another namespace', () => variant((b) => { b.sa.metadata.namespace = 'other'; })],
    ],
    clean: [
      ['ServiceAccount in the set', () => base().all],
      ['default service account always exists', () => variant((b) => { podOf(b.deploy).serviceAccountName = 'default'; return b.all.filter((o) => o !== b.sa); })],
    ],
  },
  {
    check: 'pdb-max-unavailable',
    trigger: [
      ['maxUnavailable 0', () => variant((b) => { b.pdb.spec.maxUnavailable = 0; })],
      ['maxUnavailable 0%', () => variant((b) => { b.pdb.spec.maxUnavailable = '0%'; })],
    ],
    clean: [
      ['maxUnavailable 1', () => base().all],
      ['maxUnavailable 25%', () => variant((b) => { b.pdb.spec.maxUnavailable = '25%'; })],
    ],
  },
  {
    check: 'pdb-min-available',
    trigger: [
      ['minAvailable equal to replicas', () => variant((b) => { delete b.pdb.spec.maxUnavailable; b.pdb.spec.minAvailable = 2; })],
      ['minAvailable 100%', () => variant((b) => { delete b.pdb.spec.maxUnavailable; b.pdb.spec.minAvailable = '100%'; })],
      ['percentage rounding up to all replicas', () => variant((b) => { delete b.pdb.spec.maxUnavailable; b.pdb.spec.minAvailable = '60%'; })],
      ['replicas unset, HPA minimum equal to minAvailable', () => variant((b) => {
        delete b.deploy.spec.replicas; delete b.pdb.spec.maxUnavailable; b.pdb.spec.minAvailable = 2;
        return [...b.all, hpa(2)];
      })],
    ],
    clean: [
      ['minAvailable below replicas', () => variant((b) => { delete b.pdb.spec.maxUnavailable; b.pdb.spec.minAvailable = 1; })],
      ['replicas unset, HPA minimum above minAvailable', () => variant((b) => {
        delete b.deploy.spec.replicas; delete b.pdb.spec.maxUnavailable; b.pdb.spec.minAvailable = 2;
        return [...b.all, hpa(3)];
      })],
      ['PDB selecting no workload', () => variant((b) => {
        delete b.pdb.spec.maxUnavailable; b.pdb.spec.minAvailable = 5; b.pdb.spec.selector = { matchLabels: { app: 'none' } };
      })],
    ],
  },
  {
    check: 'pdb-unhealthy-pod-eviction-policy',
    trigger: [['policy unset', () => variant((b) => { delete b.pdb.spec.unhealthyPodEvictionPolicy; })]],
    clean: [
      ['AlwaysAllow', () => base().all],
      ['IfHealthyBudget, set explicitly', () => variant((b) => { b.pdb.spec.unhealthyPodEvictionPolicy = 'IfHealthyBudget'; })],
    ],
  },
  {
    check: 'privilege-escalation-container',
    trigger: [
      ['allowPrivilegeEscalation true', () => variant((b) => { mainContainer(b.deploy).securityContext.allowPrivilegeEscalation = true; })],
      ['SYS_ADMIN added', () => variant((b) => { mainContainer(b.deploy).securityContext.capabilities = { add: ['SYS_ADMIN'], drop: ['NET_RAW'] }; })],
    ],
    clean: [['allowPrivilegeEscalation false', () => base().all]],
  },
  {
    check: 'privileged-container',
    trigger: [['privileged true', () => variant((b) => { mainContainer(b.deploy).securityContext.privileged = true; })]],
    clean: [['privileged false', () => base().all]],
  },
  {
    check: 'readiness-port',
    trigger: [['probe on an unexposed port', () => variant((b) => { mainContainer(b.deploy).readinessProbe = { httpGet: { path: '/', port: 'metrics' } }; })]],
    clean: [['probe on the exposed port number', () => base().all]],
  },
  {
    check: 'run-as-non-root',
    trigger: [
      ['nothing set', () => variant((b) => { delete podOf(b.deploy).securityContext; delete mainContainer(b.deploy).securityContext.runAsNonRoot; })],
      ['runAsNonRoot with runAsUser 0', () => variant((b) => { mainContainer(b.deploy).securityContext.runAsUser = 0; })],
      ['container overrides pod runAsNonRoot to false', () => variant((b) => { delete podOf(b.deploy).securityContext.runAsUser; mainContainer(b.deploy).securityContext.runAsNonRoot = false; })],
    ],
    clean: [
      ['pod-level runAsNonRoot only', () => variant((b) => { podOf(b.deploy).securityContext = { runAsNonRoot: true }; delete mainContainer(b.deploy).securityContext.runAsNonRoot; })],
      ['container-level runAsUser only', () => variant((b) => {
        delete podOf(b.deploy).securityContext; delete mainContainer(b.deploy).securityContext.runAsNonRoot;
        mainContainer(b.deploy).securityContext.runAsUser = 1000;
      })],
    ],
  },
  {
    check: 'sensitive-host-mounts',
    trigger: [['/etc mounted', () => variant((b) => hostPathMount(b.deploy, '/etc'))]],
    clean: [['a subdirectory of /etc is not on the list', () => variant((b) => hostPathMount(b.deploy, '/etc/ssl/certs'))]],
  },
  {
    check: 'ssh-port',
    trigger: [['TCP 22 (protocol defaulted)', () => variant((b) => { mainContainer(b.deploy).ports.push({ name: 'ssh', containerPort: 22 }); })]],
    clean: [['UDP 22', () => variant((b) => { mainContainer(b.deploy).ports.push({ name: 'udp22', containerPort: 22, protocol: 'UDP' }); })]],
  },
  {
    check: 'startup-port',
    trigger: [['gRPC probe on an unexposed port', () => variant((b) => { mainContainer(b.deploy).startupProbe = { grpc: { port: 9000 } }; })]],
    clean: [['gRPC probe on the exposed port', () => variant((b) => { mainContainer(b.deploy).startupProbe = { grpc: { port: 8080 } }; })]],
  },
  {
    check: 'unsafe-sysctls',
    trigger: [
      ['net.*', () => variant((b) => { podOf(b.deploy).securityContext.sysctls = [{ name: 'net.core.somaxconn', value: '1024' }]; })],
      ['kernel.shm*', () => variant((b) => { podOf(b.deploy).securityContext.sysctls = [{ name: 'kernel.shm_rmid_forced', value: '1' }]; })],
    ],
    clean: [['a sysctl outside the unsafe prefixes', () => variant((b) => { podOf(b.deploy).securityContext.sysctls = [{ name: 'kernel.domainname', value: 'x' }]; })]],
  },
  {
    check: 'unset-cpu-requirements',
    trigger: [
      ['no CPU request', () => variant((b) => { delete mainContainer(b.deploy).resources.requests.cpu; })],
      ['zero CPU request', () => variant((b) => { mainContainer(b.deploy).resources.requests.cpu = '0'; })],
    ],
    clean: [
      ['CPU request set', () => base().all],
      ['CPU limit not required', () => variant((b) => { delete mainContainer(b.deploy).resources.limits.cpu; })],
    ],
  },
  {
    check: 'unset-memory-requirements',
    trigger: [
      ['no memory limit', () => variant((b) => { delete mainContainer(b.deploy).resources.limits.memory; })],
      ['no resources at all on an init container', () => variant((b) => {
        podOf(b.deploy).initContainers = [{ ...appContainer(), name: 'init', resources: { requests: { cpu: '10m' } }, livenessProbe: undefined, readinessProbe: undefined, startupProbe: undefined }];
      })],
    ],
    clean: [
      ['memory limit set', () => base().all],
      ['memory request not required', () => variant((b) => { delete mainContainer(b.deploy).resources.requests.memory; })],
    ],
  },
  {
    check: 'job-ttl-seconds-after-finished',
    trigger: [
      ['standalone Job without ttlSecondsAfterFinished', () => [serviceAccount(), job()]],
      ['CronJob job template with ttlSecondsAfterFinished', () => [serviceAccount(), cronJob(300)]],
    ],
    clean: [
      ['standalone Job with ttlSecondsAfterFinished', () => [serviceAccount(), job(600)]],
      ['CronJob leaving cleanup to its history limits', () => [serviceAccount(), cronJob()]],
    ],
  },
];

describe('kube-linter default checks (TypeScript port)', () => {
  it('the base fixture set is clean', () => {
    expect(lintObjects(base().all)).toEqual([]);
    expect(() => expectLintClean(base().all)).not.toThrow();
  });

  it('has a trigger and a clean case for every implemented check, and nothing else', () => {
    expect(CASES.map((c) => c.check).sort()).toEqual([...CHECK_NAMES].sort());
    for (const c of CASES) {
      expect(c.trigger.length, c.check).toBeGreaterThan(0);
      expect(c.clean.length, c.check).toBeGreaterThan(0);
    }
  });

  for (const c of CASES) {
    describe(c.check, () => {
      for (const [title, objects] of c.trigger) {
        it(`flags: ${title}`, () => {
          const findings = lintObjects(objects());
          expect(findings.map((f) => f.check), JSON.stringify(findings, null, 2)).toContain(c.check);
          const f = findings.find((x) => x.check === c.check)!;
          expect(f.message).not.toBe('');
          expect(f.remediation).not.toBe('');
          expect(f.kind).not.toBe('');
          expect(f.name).not.toBe('');
        });
      }
      for (const [title, objects] of c.clean) {
        it(`passes: ${title}`, () => {
          expect(lintObjects(objects())).toEqual([]);
        });
      }
    });
  }

  it('checks every workload kind kube-linter treats as DeploymentLike', () => {
    const tpl = deployment().spec.template;
    const bad = (o: Obj): Obj => { (o.kind === 'Pod' ? o.spec : o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec).containers[0].image = 'nginx:latest'; return o; };
    const workloads: Obj[] = [
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: NS }, spec: { replicas: 1, serviceName: 'db', selector: { matchLabels: { ...LABELS } }, template: structuredClone(tpl) } },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: NS }, spec: { selector: { matchLabels: { ...LABELS } }, template: structuredClone(tpl) } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'one', namespace: NS, labels: { ...LABELS } }, spec: podSpec() },
      job(600),
      cronJob(),
    ];
    expect(lintObjects([serviceAccount(), ...workloads])).toEqual([]);
    const findings = lintObjects([serviceAccount(), ...workloads.map((w) => bad(structuredClone(w)))]);
    expect(findings.filter((f) => f.check === 'latest-tag').map((f) => f.kind).sort()).toEqual(['CronJob', 'DaemonSet', 'Job', 'Pod', 'StatefulSet']);
  });

  it('leaves objects no default check applies to alone', () => {
    const others: Obj[] = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: NS }, data: { DB_SECRET: 'not-an-env-var' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: NS }, stringData: { password: 'x' } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web', namespace: NS }, spec: { podSelector: { matchLabels: { app: 'nothing' } } } },
      hpa(2),
      { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'web', namespace: NS }, spec: { selector: { matchLabels: { app: 'nothing' } }, endpoints: [{ port: 'metrics' }] } },
      { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'web', namespace: NS }, spec: { groups: [] } },
      { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'web', namespace: NS }, spec: { scaleTargetRef: { name: 'ghost' }, triggers: [] } },
    ];
    expect(lintObjects(others)).toEqual([]);
  });

  it('a KEDA ScaledObject minimum stands in for unset replicas, like an HPA', () => {
    const scaled = (min: number): Obj => ({ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'web', namespace: NS }, spec: { scaleTargetRef: { name: 'web' }, minReplicaCount: min, triggers: [] } });
    const set = (min: number): Obj[] => variant((b) => { delete b.deploy.spec.replicas; delete b.pdb.spec.maxUnavailable; b.pdb.spec.minAvailable = 2; return [...b.all, scaled(min)]; });
    expect(lintObjects(set(2)).map((f) => f.check)).toEqual(['pdb-min-available']);
    expect(lintObjects(set(3))).toEqual([]);
  });

  describe('exemption annotations', () => {
    const withLatest = (annotations: Record<string, string>): Obj[] => variant((b) => {
      mainContainer(b.deploy).image = 'nginx:latest';
      b.deploy.metadata.annotations = annotations;
    });

    it('ignore-check.kube-linter.io/<check> with a reason suppresses that check on that object only', () => {
      expect(lintObjects(withLatest({ 'ignore-check.kube-linter.io/latest-tag': 'pinned by the image policy controller at admission' }))).toEqual([]);
      const other = lintObjects(withLatest({ 'ignore-check.kube-linter.io/privileged-container': 'not this one' }));
      expect(other.map((f) => f.check)).toEqual(['latest-tag']);
    });

    it('kube-linter.io/ignore-all with a reason suppresses every check on the object', () => {
      expect(lintObjects(withLatest({ 'kube-linter.io/ignore-all': 'third-party manifest, audited separately' }))).toEqual([]);
    });

    it('an empty reason is itself a finding and exempts nothing', () => {
      for (const reason of ['', '   ']) {
        const findings = lintObjects(withLatest({ 'ignore-check.kube-linter.io/latest-tag': reason }));
        expect(findings.map((f) => f.check).sort()).toEqual(['latest-tag', UNDOCUMENTED_EXEMPTION]);
        const f = findings.find((x) => x.check === UNDOCUMENTED_EXEMPTION)!;
        expect(f).toMatchObject({ kind: 'Deployment', name: 'web' });
        expect(f.message).toContain('ignore-check.kube-linter.io/latest-tag');
      }
    });

    it('an empty reason is reported even when nothing needed exempting', () => {
      const findings = lintObjects(variant((b) => { b.svc.metadata.annotations = { 'kube-linter.io/ignore-all': '' }; }));
      expect(findings).toEqual([expect.objectContaining({ check: UNDOCUMENTED_EXEMPTION, kind: 'Service', name: 'web' })]);
    });
  });

  it('expectLintClean throws listing every finding', () => {
    const objects = variant((b) => {
      mainContainer(b.deploy).image = 'nginx';
      delete b.pdb.spec.unhealthyPodEvictionPolicy;
    });
    expect(() => expectLintClean(objects)).toThrow(/2 finding\(s\)[\s\S]*Deployment\/web: .*latest-tag[\s\S]*PodDisruptionBudget\/web: .*pdb-unhealthy-pod-eviction-policy/);
  });
});
