/**
 * What routes to and protects the Postgres pods, rendered from the resolved spec only: the Services (headless,
 * read-write, read-only, pooler), the PodDisruptionBudgets and the NetworkPolicies (the shared builder of
 * lib/network-policy.ts).
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { createPdb } from '../disruption';
import { selectorLabels } from '../labels';
import { IngressPolicy, createIngressPolicy } from '../network-policy';
import { PGBOUNCER_EXPORTER_PORT, POOLER_PORT, PORT, POSTGRES_EXPORTER_PORT } from './layout';
import { RESTAPI_PORT, ROLE_LABEL } from './patroni';
import { poolerName, poolerSelector } from './pooler';
import type { ResolvedPostgresCluster } from './resolve';

export interface PostgresServices {
  readonly headless: k8s.KubeService;
  readonly readWrite: k8s.KubeService;
  readonly readOnly?: k8s.KubeService;
  readonly pooler: k8s.KubeService;
}

function clientService(scope: Construct, id: string, name: string, labels: Record<string, string>, selector: Record<string, string>,
  targetPort: string, metricsPort?: number, annotations?: Record<string, string>): k8s.KubeService {
  const ports: k8s.ServicePort[] = [{ name: 'postgres', port: PORT, targetPort: k8s.IntOrString.fromString(targetPort), protocol: 'TCP' }];
  if (metricsPort) ports.push({ name: 'metrics', port: metricsPort, targetPort: k8s.IntOrString.fromString('metrics'), protocol: 'TCP' });
  return new k8s.KubeService(scope, id, { metadata: { name, labels, ...(annotations ? { annotations } : {}) }, spec: { type: 'ClusterIP', selector, ports } });
}

export const readWriteHost = (spec: ResolvedPostgresCluster): string => `${spec.name}-rw`;
export const readOnlyHost = (spec: ResolvedPostgresCluster): string => `${spec.name}-ro`;

/** Read-write (primary), read-only (replicas), pooler, and the headless Service the StatefulSets need. */
export function postgresServices(scope: Construct, spec: ResolvedPostgresCluster): PostgresServices {
  const headless = new k8s.KubeService(scope, 'headless', {
    metadata: { name: `${spec.name}-headless`, labels: spec.labels.database },
    spec: {
      clusterIp: 'None',
      // Per-pod DNS (orders-db-1.orders-db-headless) exists before readiness, for debugging a pod that is still
      // catching up.
      publishNotReadyAddresses: true,
      selector: spec.clusterSelector,
      ports: [
        { name: 'postgres', port: PORT, targetPort: k8s.IntOrString.fromString('postgres'), protocol: 'TCP' },
        ...(spec.metrics ? [{ name: 'metrics', port: POSTGRES_EXPORTER_PORT, targetPort: k8s.IntOrString.fromString('metrics'), protocol: 'TCP' }] : []),
      ],
    },
  });
  // With Patroni the role label moves with the leader: the Services follow it without any restart.
  const patroni = spec.patroni !== undefined;
  const roleSelector = (role: 'primary' | 'replica') => (patroni ? { ...spec.clusterSelector, [ROLE_LABEL]: role } : selectorLabels(spec.name, role));
  const runtimeRole = patroni ? { 'ignore-check.kube-linter.io/dangling-service': `Patroni sets ${ROLE_LABEL} on the member pods at run time` } : undefined;
  const readWrite = clientService(scope, 'rw', readWriteHost(spec), spec.labels.primary, roleSelector('primary'), 'postgres', undefined, runtimeRole);
  const readOnly = spec.replicas > 0
    ? clientService(scope, 'ro', readOnlyHost(spec), spec.labels.replica, roleSelector('replica'), 'postgres', undefined, runtimeRole)
    : undefined;
  const pooler = clientService(scope, 'pooler-service', poolerName(spec), spec.labels.pooler, poolerSelector(spec), 'pgbouncer',
    spec.metrics ? PGBOUNCER_EXPORTER_PORT : undefined);
  return { headless, readWrite, readOnly, pooler };
}

/**
 * Disruption: one budget over every database pod, one pod at a time, with or without Patroni; one pooler pod at a time.
 *
 * Not one budget per Patroni role (tried in issue 20): the leader's budget had to let the leader go (its preStop
 * switches over first), so a drain could take the leader and a replica at once (2 of 3 members down), and a
 * failover moves a pod from the replicas' budget to the leader's, so the replicas' budget read 0 of 1 healthy right
 * after a promotion (the simulated cluster's two-zone drain saw it). Over the whole cluster, maxUnavailable 1 counts
 * the StatefulSet's scale as expected pods, which is exactly the members: at most one member is ever disrupted
 * voluntarily, whichever role it plays, and the survivors always hold a leader and, with 2+ replicas, a replica.
 */
export function postgresPdbs(scope: Construct, spec: ResolvedPostgresCluster): { pdb: k8s.KubePodDisruptionBudget; poolerPdb: k8s.KubePodDisruptionBudget } {
  const pdb = createPdb(scope, 'pdb', { name: spec.name, labels: spec.labels.database, selector: spec.clusterSelector });
  const poolerPdb = createPdb(scope, 'pooler-pdb', { name: poolerName(spec), labels: spec.labels.pooler, selector: poolerSelector(spec) });
  return { pdb, poolerPdb };
}

/**
 * Ingress to Postgres (members, the pooler, clients; Patroni's REST API between members only) and to the pooler
 * (clients), plus the metrics ports for scrapers. Wiring adds clients with `allowClient`.
 */
export function postgresNetworkPolicies(scope: Construct, spec: ResolvedPostgresCluster): IngressPolicy[] {
  const clients = [{ podLabels: spec.clientLabels }];
  const postgres = createIngressPolicy(scope, 'network-policy', {
    name: spec.name, labels: spec.labels.database, selector: spec.clusterSelector, property: 'networkPolicy',
    ports: [PORT],
    // Patroni members compare WAL positions through each other's REST API during a failover.
    ...(spec.patroni ? { memberPorts: [RESTAPI_PORT] } : {}),
    metricsPorts: spec.metrics ? [POSTGRES_EXPORTER_PORT] : [],
    props: { allowFrom: clients },
  });
  postgres.allowClient(poolerSelector(spec));
  const pooler = createIngressPolicy(scope, 'pooler-network-policy', {
    name: poolerName(spec), labels: spec.labels.pooler, selector: poolerSelector(spec), property: 'networkPolicy',
    ports: [POOLER_PORT], members: false,
    metricsPorts: spec.metrics ? [PGBOUNCER_EXPORTER_PORT] : [],
    props: { allowFrom: clients },
  });
  return [postgres, pooler];
}
