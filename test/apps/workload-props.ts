import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { PostgresCluster, RedisHA, StatelessService, WorkerPool } from '../../lib';

/**
 * Issue 17's pod-level props, every one of them (and those the datastores take), in one app: what the API-server judge (test/cluster/apiserver.test.ts)
 * must accept under Pod Security "restricted", as manifests and as a chart.
 */
export function workloadPropsApp(app: App): Chart {
  const chart = new Chart(app, 'props', { namespace: 'props' });
  new StatelessService(chart, 'api', {
    image: 'ghcr.io/example/api:1.4.0',
    metricsPort: 9090,
    imagePullSecrets: ['regcred'],
    serviceAccount: { create: true, annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/api' } },
    podAnnotations: { 'example.com/owner': 'payments' },
    podLabels: { 'example.com/team': 'payments' },
    extraEnv: [
      { name: 'REGION', value: 'eu-west-1' },
      // Seed 003's per-instance ids: the pod's own name through the downward API.
      { name: 'INSTANCE_ID', fieldRef: { fieldPath: 'metadata.name' } },
      { name: 'POD_IP', fieldRef: { fieldPath: 'status.podIP' } },
      { name: 'TEAM', fieldRef: { fieldPath: "metadata.labels['example.com/team']" } },
      { name: 'MEMORY_LIMIT_MI', resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
      { name: 'DB_PASSWORD', secretKeyRef: { name: 'api-db', key: 'password' } },
      { name: 'FEATURES', configMapKeyRef: { name: 'api-features', key: 'enabled', optional: true } },
    ],
    extraEnvFrom: [{ secretRef: { name: 'vendor-keys' }, prefix: 'VENDOR_' }, { configMapRef: { name: 'api-defaults', optional: true } }],
    probes: {
      readiness: { http: { path: '/ready', port: 'http' }, periodSeconds: 10, successThreshold: 2 },
      liveness: { grpc: { port: 8080, service: 'liveness' }, periodSeconds: 20, timeoutSeconds: 3 },
      startup: { exec: { command: ['/app/healthcheck', '--startup'] }, periodSeconds: 5, failureThreshold: 24 },
    },
    ingress: {
      className: 'nginx',
      annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
      hosts: [
        { host: 'api.example.com', paths: [{ path: '/v1', pathType: 'Prefix' }, { path: '/healthz', pathType: 'Exact' }] },
        { host: '*.tenants.example.com' },
      ],
      tls: [{ hosts: ['api.example.com'], secretName: 'api-tls' }, { hosts: ['*.tenants.example.com'], secretName: 'tenants-tls' }],
    },
    migration: { command: ['/app/server', 'migrate', 'up'] },
  });
  new k8s.KubeServiceAccount(chart, 'shared-account', { metadata: { name: 'jobs-runner' }, automountServiceAccountToken: false });
  new WorkerPool(chart, 'jobs', {
    image: 'ghcr.io/example/api:1.4.0',
    queue: 'jobs',
    metricsPort: 9090,
    imagePullSecrets: ['regcred'],
    serviceAccount: { name: 'jobs-runner' },
    podAnnotations: { 'example.com/owner': 'payments' },
    podLabels: { 'example.com/team': 'payments' },
    extraEnv: [
      { name: 'WORKER_ID', fieldRef: { fieldPath: 'metadata.name' } },
      { name: 'CPU_LIMIT', resourceFieldRef: { resource: 'limits.cpu', containerName: 'worker', divisor: '1m' } },
    ],
    probes: {
      liveness: { tcp: { port: 'metrics' }, periodSeconds: 15 },
      readiness: { http: { path: '/ready', port: 9090 } },
      startup: { tcp: { port: 'metrics' }, failureThreshold: 30, periodSeconds: 2 },
    },
  });
  // The datastores take the pod metadata and pull secrets too.
  const pod = { imagePullSecrets: ['regcred'], podAnnotations: { 'example.com/owner': 'data' }, podLabels: { 'example.com/team': 'data' } };
  new PostgresCluster(chart, 'db', { credentials: { superuser: { secretName: 'db-superuser' }, replication: { secretName: 'db-replication' }, app: { secretName: 'db-app', key: 'password' } }, ...pod });
  new RedisHA(chart, 'cache', { passwordSecret: { secretName: 'cache-redis', key: 'password' }, ...pod });
  return chart;
}
