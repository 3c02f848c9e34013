/** The PgBouncer pooler of a PostgresCluster, rendered from the resolved spec only. */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { POSTGRES } from '../defaults';
import { withEphemeralStorage } from '../ephemeral-storage';
import { selectorLabels } from '../labels';
import { exporterSidecar } from '../monitoring';
import {
  TMP_MOUNT, TMP_VOLUME, containerSecurityContext, podSecurityContext, presetPlacement, spreadScheduling, toResourceRequirements,
} from '../pod';
import { ASSETS, readAsset, renderTemplate } from './files';
import { CONFIG_HASH_ANNOTATION, PGBOUNCER_EXPORTER_PORT, POOLER_CONFIG_DIR, POOLER_PORT, POOLER_RUN_DIR, POOLER_UID, PORT, passwordFile, passwordMount } from './layout';
import { EXPORTER_PROBES, passwordVolume } from './members';
import type { ResolvedPostgresCluster } from './resolve';

export const poolerName = (spec: ResolvedPostgresCluster): string => `${spec.name}-pooler`;
export const poolerSelector = (spec: ResolvedPostgresCluster): Record<string, string> => selectorLabels(poolerName(spec), 'pooler');

export function poolerConfigMap(scope: Construct, spec: ResolvedPostgresCluster): k8s.KubeConfigMap {
  const { pooler } = spec.settings;
  return new k8s.KubeConfigMap(scope, 'pooler-config', {
    metadata: { name: `${spec.name}-pooler-config`, labels: spec.labels.pooler },
    data: {
      'pgbouncer.ini': renderTemplate(ASSETS.pgbouncerIni, {
        database: spec.database, user: spec.user, poolMode: POSTGRES.poolMode, maxPreparedStatements: POSTGRES.poolerMaxPreparedStatements,
        defaultPoolSize: pooler.defaultPoolSize, reservePoolSize: pooler.reservePoolSize,
        maxDbConnections: pooler.maxDbConnections, maxClientConn: pooler.maxClientConn,
      }),
      'pooler-init.sh': readAsset(ASSETS.poolerInit),
    },
  });
}

function pgbouncerExporter(image: string, user: string): k8s.Container {
  return exporterSidecar({
    image,
    port: PGBOUNCER_EXPORTER_PORT,
    env: [
      // lib/pq reads the password from PGPASSFILE, written by pooler-init.sh into the memory emptyDir: no password
      // in the connection string or in an environment variable (issue 18).
      { name: 'PGBOUNCER_EXPORTER_CONNECTION_STRING', value: `postgres://${user}@127.0.0.1:${POOLER_PORT}/pgbouncer?sslmode=disable` },
      { name: 'PGPASSFILE', value: `${POOLER_RUN_DIR}/exporter.pgpass` },
    ],
    requests: POSTGRES.exporterRequests,
    limits: POSTGRES.exporterLimits,
    ...EXPORTER_PROBES,
    volumeMounts: [{ name: 'run', mountPath: POOLER_RUN_DIR, readOnly: true }],
  });
}

export function poolerDeployment(scope: Construct, spec: ResolvedPostgresCluster, o: { configMapName: string; configHash: string; rwHost: string }): k8s.KubeDeployment {
  const name = poolerName(spec);
  const labels = spec.labels.pooler;
  const resources = toResourceRequirements(spec.pooler.resources);
  const runMount: k8s.VolumeMount = { name: 'run', mountPath: POOLER_RUN_DIR };
  const init: k8s.Container = {
    name: 'render-config',
    // The postgres image brings bash for pooler-init.sh; the PgBouncer image need not have a shell.
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['bash', `${POOLER_CONFIG_DIR}/pooler-init.sh`],
    env: [
      { name: 'PGBOUNCER_CONFIG_DIR', value: POOLER_CONFIG_DIR },
      { name: 'PGBOUNCER_RUN_DIR', value: POOLER_RUN_DIR },
      { name: 'POSTGRES_HOST', value: o.rwHost },
      { name: 'POSTGRES_PORT', value: String(PORT) },
      { name: 'PGBOUNCER_LISTEN_ADDR', value: '0.0.0.0' },
      { name: 'PGBOUNCER_PORT', value: String(POOLER_PORT) },
      { name: 'APP_USER', value: spec.user },
      { name: 'APP_PASSWORD_FILE', value: passwordFile('app') },
    ],
    resources,
    securityContext: containerSecurityContext(true),
    volumeMounts: [runMount, TMP_MOUNT, { name: 'config', mountPath: POOLER_CONFIG_DIR, readOnly: true }, passwordMount('app')],
  };
  const pgbouncer: k8s.Container = {
    name: 'pgbouncer',
    image: spec.pooler.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['pgbouncer', `${POOLER_RUN_DIR}/pgbouncer.ini`],
    ports: [{ name: 'pgbouncer', containerPort: POOLER_PORT, protocol: 'TCP' }],
    resources,
    securityContext: containerSecurityContext(true),
    readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('pgbouncer') }, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('pgbouncer') }, periodSeconds: 10, failureThreshold: 6 },
    volumeMounts: [runMount, TMP_MOUNT],
  };
  const containers = [pgbouncer];
  if (spec.metrics) containers.push(pgbouncerExporter(spec.metrics.pgbouncerExporterImage, spec.user));

  return new k8s.KubeDeployment(scope, 'pooler', {
    metadata: { name, labels },
    spec: {
      replicas: spec.settings.pooler.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: poolerSelector(spec) },
      // A new pooler pod must be ready before an old one goes; surge one at a time: each pooler pod holds a
      // share of the server-connection budget, and a surge pod only opens connections as clients arrive.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } },
      template: {
        metadata: { labels, annotations: { ...spec.preset.podAnnotations, [CONFIG_HASH_ANNOTATION]: o.configHash } },
        spec: withEphemeralStorage({
          automountServiceAccountToken: false,
          securityContext: podSecurityContext({ runAsUser: POOLER_UID }),
          terminationGracePeriodSeconds: 30,
          initContainers: [init],
          containers,
          volumes: [
            // Memory-backed: the rendered auth file never touches a disk.
            { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('4Mi') } },
            TMP_VOLUME,
            { name: 'config', configMap: { name: o.configMapName } },
            passwordVolume(spec, 'app'),
          ],
          ...spreadScheduling({ selector: poolerSelector(spec), nodeAntiAffinity: 'preferred' }),
          ...presetPlacement(spec.preset),
        }),
      },
    },
  });
}
