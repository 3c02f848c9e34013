import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { Presets, STATELESS, StatelessService, StatelessServiceProps } from '../lib';
import { expectValidationError } from './harness/errors';
import { build, container, find, findAll, K8sObject, synth } from './harness/synth';

const IMAGE = 'ghcr.io/example/api:1.2.3';

function service(props: Partial<StatelessServiceProps> = {}, id = 'api'): K8sObject[] {
  return synth((chart) => new StatelessService(chart, id, { image: IMAGE, ...props }));
}

describe('StatelessService defaults', () => {
  const objects = service();
  const deployment = find(objects, 'Deployment', 'api');
  const app = container(deployment);
  const pod = deployment.spec.template.spec;

  it('emits exactly a Deployment, Service, HPA, PDB and NetworkPolicy', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service']);
  });

  it('starts at the HPA floor and lets the HPA own the count: 3 to 20 at CPU 60 % and memory 75 %', () => {
    // Without replicas a new Deployment starts at 1 until the HPA reacts (10-15 s), one pod a drain may evict.
    expect(deployment.spec.replicas).toBe(3);
    const hpa = find(objects, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
    expect(hpa.spec.minReplicas).toBe(3);
    expect(hpa.spec.maxReplicas).toBe(20);
    const targets = Object.fromEntries(hpa.spec.metrics.map((m: K8sObject) => [m.resource.name, m.resource.target]));
    expect(targets).toEqual({
      cpu: { type: 'Utilization', averageUtilization: 60 },
      memory: { type: 'Utilization', averageUtilization: 75 },
    });
  });

  it('requests 500m / 256Mi and limits 2000m / 1Gi', () => {
    expect(app.resources).toEqual({ requests: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '2000m', memory: '1Gi', 'ephemeral-storage': '512Mi' } });
  });

  it('rolls out without ever reducing ready pods', () => {
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
  });

  it('has a PDB that allows a drain one pod at a time, even with unhealthy pods', () => {
    const pdb = find(objects, 'PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.minAvailable).toBeUndefined();
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it('runs hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no token', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(app.securityContext).toEqual({
      allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(app.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
  });

  it('probes readiness on /ready, liveness and startup on the port', () => {
    expect(app.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(app.livenessProbe.tcpSocket).toEqual({ port: 'http' });
    expect(app.startupProbe.tcpSocket).toEqual({ port: 'http' });
    expect(app.startupProbe.periodSeconds * app.startupProbe.failureThreshold).toBe(120);
  });

  it('spreads over zones and nodes', () => {
    const keys = pod.topologySpreadConstraints.map((c: K8sObject) => c.topologyKey);
    expect(keys).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    // Only the pods of one ReplicaSet count, so a rollout's outgoing pods don't skew where new ones land.
    for (const c of pod.topologySpreadConstraints) expect(c.matchLabelKeys).toEqual(['pod-template-hash']);
    const anti = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0];
    expect(anti.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(anti.podAffinityTerm.labelSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it('carries the standard labels, version only outside selectors', () => {
    expect(deployment.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'api',
      'app.kubernetes.io/instance': 'api',
      'app.kubernetes.io/component': 'server',
      'app.kubernetes.io/part-of': 'test',
      'app.kubernetes.io/managed-by': 'scalecharts',
      'app.kubernetes.io/version': '1.2.3',
    });
    expect(deployment.spec.selector.matchLabels['app.kubernetes.io/version']).toBeUndefined();
    expect(deployment.spec.template.metadata.labels).toEqual(deployment.metadata.labels);
  });

  it('exposes port 80 → http on a ClusterIP Service without affinity', () => {
    const svc = find(objects, 'Service');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(svc.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(svc.spec.sessionAffinity).toBeUndefined();
  });

  it('takes its numbers from lib/defaults.ts', () => {
    expect(STATELESS).toMatchObject({ minReplicas: 3, maxReplicas: 20, cpuUtilization: 60, memoryUtilization: 75 });
  });
});

describe('StatelessService overrides', () => {
  it('takes the other documented targets (70/80) and a role ceiling', () => {
    const hpa = find(service({ autoscaling: { cpuUtilization: 70, memoryUtilization: 80, maxReplicas: 16, minReplicas: 2 } }), 'HorizontalPodAutoscaler');
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 16 });
    expect(hpa.spec.metrics.map((m: K8sObject) => m.resource.target.averageUtilization)).toEqual([70, 80]);
  });

  it('passes HPA behavior through', () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 600 } };
    expect(find(service({ autoscaling: { behavior } }), 'HorizontalPodAutoscaler').spec.behavior).toEqual(behavior);
  });

  it('with autoscaling off, sets replicas explicitly and emits no HPA', () => {
    const objects = service({ autoscaling: false, replicas: 4 });
    expect(find(objects, 'Deployment').spec.replicas).toBe(4);
    expect(findAll(objects, 'HorizontalPodAutoscaler')).toHaveLength(0);
    expect(find(service({ autoscaling: false }), 'Deployment').spec.replicas).toBe(3);
  });

  it('injects env, secrets by reference, envFrom and APP_MODE', () => {
    const app = container(find(service({
      appMode: 'combined',
      env: { LOG_LEVEL: 'debug' },
      secretEnv: { DATABASE_URL: { secretName: 'db', key: 'url' } },
      envFrom: { secrets: ['extra'], configMaps: ['settings'] },
    }), 'Deployment'));
    expect(app.env).toEqual([
      { name: 'APP_MODE', value: 'combined' },
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
    ]);
    expect(app.envFrom).toEqual([{ secretRef: { name: 'extra' } }, { configMapRef: { name: 'settings' } }]);
  });

  it('mounts ConfigMaps read-only', () => {
    const d = find(service({ configMounts: [{ configMap: 'app-config', mountPath: '/etc/app' }] }), 'Deployment');
    expect(container(d).volumeMounts).toContainEqual({ name: 'config-0', mountPath: '/etc/app', readOnly: true });
    expect(d.spec.template.spec.volumes).toContainEqual({ name: 'config-0', configMap: { name: 'app-config' } });
  });

  it('sets ClientIP affinity for sticky sessions, with an optional timeout', () => {
    expect(find(service({ stickySessions: true }), 'Service').spec.sessionAffinity).toBe('ClientIP');
    const svc = find(service({ stickySessions: 600 }), 'Service');
    expect(svc.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 600 } });
  });

  it('adds an Ingress to the http port', () => {
    const ing = find(service({ ingress: { host: 'api.example.com', className: 'nginx', tlsSecretName: 'api-tls' } }), 'Ingress');
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.tls).toEqual([{ hosts: ['api.example.com'], secretName: 'api-tls' }]);
    expect(ing.spec.rules[0].http.paths[0]).toEqual({ path: '/', pathType: 'Prefix', backend: { service: { name: 'api', port: { name: 'http' } } } });
  });

  it('adds a ServiceMonitor on a separate metrics port', () => {
    const objects = service({ metricsPort: 9090, serviceMonitor: { interval: '15s' } });
    const sm = find(objects, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '15s' }]);
    expect(find(objects, 'Service').spec.ports.map((p: K8sObject) => p.name)).toEqual(['http', 'metrics']);
    expect(container(find(objects, 'Deployment')).ports).toContainEqual({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
  });

  it('uses custom probe paths; liveness switches to HTTP', () => {
    const app = container(find(service({ probes: { readinessPath: '/healthz/ready', livenessPath: '/healthz/live' } }), 'Deployment'));
    expect(app.readinessProbe.httpGet.path).toBe('/healthz/ready');
    expect(app.livenessProbe.httpGet).toEqual({ path: '/healthz/live', port: 'http' });
    expect(app.livenessProbe.tcpSocket).toBeUndefined();
  });

  it('mounts the service-account token only when asked', () => {
    const pod = find(service({ automountServiceAccountToken: true }), 'Deployment').spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(true);
  });

  it('addEnv / addSecretEnv extend the container after construction', () => {
    const objects = synth((chart) => {
      const s = new StatelessService(chart, 'api', { image: IMAGE });
      s.addEnv('REGION', 'eu');
      s.addSecretEnv('REDIS_PASSWORD', { secretName: 'redis', key: 'password' });
    });
    expect(container(find(objects, 'Deployment')).env).toEqual([
      { name: 'REGION', value: 'eu' },
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis', key: 'password' } } },
    ]);
  });
});

describe('StatelessService presets', () => {
  it('changes defaults beneath a scope; nearest preset and call-site props win', () => {
    const objects = synth((chart) => {
      Presets.apply(chart, { autoscaling: { maxReplicas: 12, cpuUtilization: 70 }, imageRegistry: 'registry.example.com', labels: { team: 'core' } });
      const inner = new Construct(chart, 'payments');
      Presets.apply(inner, { autoscaling: { maxReplicas: 6 }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'payments', effect: 'NoSchedule' }] });
      new StatelessService(chart, 'outer', { image: 'shop/api:1.0.0' });
      new StatelessService(inner, 'inner', { image: IMAGE });
      new StatelessService(inner, 'pinned', { image: IMAGE, autoscaling: { maxReplicas: 9 } });
    });
    const max = (name: string) => find(objects, 'HorizontalPodAutoscaler', name).spec.maxReplicas;
    expect([max('outer'), max('inner'), max('pinned')]).toEqual([12, 6, 9]);
    expect(find(objects, 'HorizontalPodAutoscaler', 'inner').spec.metrics[0].resource.target.averageUtilization).toBe(70);
    expect(container(find(objects, 'Deployment', 'outer')).image).toBe('registry.example.com/shop/api:1.0.0');
    expect(container(find(objects, 'Deployment', 'inner')).image).toBe(IMAGE);
    expect(find(objects, 'Deployment', 'inner').metadata.labels.team).toBe('core');
    expect(find(objects, 'Deployment', 'inner').spec.template.spec.tolerations).toHaveLength(1);
    expect(find(objects, 'Deployment', 'outer').spec.template.spec.tolerations).toBeUndefined();
  });
});

describe('StatelessService validation', () => {
  const make = (props: Partial<StatelessServiceProps>, id = 'api') => () => build((chart: Chart) => new StatelessService(chart, id, { image: IMAGE, ...props }));

  it('min > max replicas', () => {
    expectValidationError(make({ autoscaling: { minReplicas: 5, maxReplicas: 4 } }), { path: 'test/api', property: 'autoscaling.minReplicas', value: 5, allowed: /maxReplicas \(4\)/ });
  });
  it('zero or fractional replicas', () => {
    expectValidationError(make({ autoscaling: { minReplicas: 0 } }), { path: 'test/api', property: 'autoscaling.minReplicas', value: 0, allowed: />= 1/ });
    expectValidationError(make({ autoscaling: false, replicas: 2.5 }), { path: 'test/api', property: 'replicas', value: 2.5 });
  });
  it('replicas together with autoscaling', () => {
    expectValidationError(make({ replicas: 3 }), { path: 'test/api', property: 'replicas', value: 3, allowed: /owned by the HPA/ });
  });
  it.each([0, 101, -5, 50.5])('utilization %s outside 1–100', (v) => {
    expectValidationError(make({ autoscaling: { cpuUtilization: v } }), { path: 'test/api', property: 'autoscaling.cpuUtilization', value: v, allowed: /from 1 to 100/ });
    expectValidationError(make({ autoscaling: { memoryUtilization: v } }), { path: 'test/api', property: 'autoscaling.memoryUtilization', value: v, allowed: /from 1 to 100/ });
  });
  it.each(['0', '-100m', 'lots', ''])('cpu %j is not a positive quantity', (v) => {
    expectValidationError(make({ resources: { requests: { cpu: v } } }), { path: 'test/api', property: 'resources.requests.cpu', value: v, allowed: /positive CPU quantity/ });
  });
  it.each(['0Mi', '-1Gi', '12XB'])('memory %j is not a positive quantity', (v) => {
    expectValidationError(make({ resources: { limits: { memory: v } } }), { path: 'test/api', property: 'resources.limits.memory', value: v, allowed: /positive memory quantity/ });
  });
  it('requests above limits', () => {
    expectValidationError(make({ resources: { requests: { cpu: '3' } } }), { path: 'test/api', property: 'resources.requests.cpu', value: '3', allowed: /limits\.cpu \(2000m\)/ });
    expectValidationError(make({ resources: { requests: { memory: '2Gi' } } }), { path: 'test/api', property: 'resources.requests.memory', value: '2Gi', allowed: /limits\.memory \(1Gi\)/ });
  });
  it.each(['API', 'api_v2', '1api', 'api-', 'a'.repeat(53)])('invalid name %j', (name) => {
    expectValidationError(make({ name }), { path: 'test/api', property: 'name', value: name, allowed: /DNS-1035/ });
  });
  it('invalid construct id used as name', () => {
    expectValidationError(make({}, 'My_Api'), { path: 'test/My_Api', property: 'name', value: 'My_Api' });
  });
  it.each([0, 70000, 80.5])('bad port %s', (port) => {
    expectValidationError(make({ port }), { path: 'test/api', property: 'port', value: port, allowed: /from 1 to 65535/ });
    expectValidationError(make({ servicePort: port }), { path: 'test/api', property: 'servicePort', value: port });
  });
  it('metrics port equal to the main port', () => {
    expectValidationError(make({ port: 9000, metricsPort: 9000 }), { path: 'test/api', property: 'metricsPort', value: 9000 });
  });
  it.each(['nginx', 'nginx:latest', 'ghcr.io/a/b', 'localhost:5000/app', 'app@sha256:abc', ' app:1'])('unpinned image %j', (image) => {
    expectValidationError(make({ image }), { path: 'test/api', property: 'image', value: image, allowed: /pinned/ });
  });
  it('accepts digests and registry ports', () => {
    expect(() => make({ image: `app@sha256:${'a'.repeat(64)}` })()).not.toThrow();
    expect(() => make({ image: 'localhost:5000/app:1.0' })()).not.toThrow();
  });
  it('credential-looking literal env', () => {
    expectValidationError(make({ env: { DB_PASSWORD: 'hunter2' } }), { path: 'test/api', property: 'env.DB_PASSWORD', allowed: /secretEnv/ });
    expect(() => make({ env: { DB_PASSWORD: 'hunter2' } })()).toThrow(/^(?!.*hunter2)/s);
  });
  it('unknown appMode', () => {
    expectValidationError(make({ appMode: 'batch' as never }), { path: 'test/api', property: 'appMode', value: 'batch', allowed: /"api", "worker", "combined", "serverless-worker"/ });
  });
  it('bad probe path and ingress host', () => {
    expectValidationError(make({ probes: { readinessPath: 'ready' } }), { path: 'test/api', property: 'probes.readinessPath', value: 'ready' });
    expectValidationError(make({ ingress: { host: 'not a host' } }), { path: 'test/api', property: 'ingress.host', value: 'not a host' });
  });
});
