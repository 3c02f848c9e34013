/**
 * The Patroni topology of a PostgresCluster (`failover: 'patroni'`): one StatefulSet of Patroni members that elect
 * their leader through the Kubernetes API (leader lock in a ConfigMap), with a least-privilege ServiceAccount,
 * Role and RoleBinding; Patroni labels each pod with its role, so the `-rw` Service follows the leader and `-ro`
 * the replicas without any restart. The config files are real files beside this one (patroni.yml, patroni-init.sh,
 * post-bootstrap.sh, patroni-pre-stop.sh), run by test/postgres-patroni.test.ts.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PATRONI, POSTGRES } from '../defaults';
import { withEphemeralStorage } from '../ephemeral-storage';
import { Problems } from '../core/problems';
import { booleanRule, integerRule, isRecord } from '../core/rules';
import { ResolvedBackup, ResolvedRestore, backupPatroniYaml } from './backup';
import { ASSETS, readAsset, renderTemplate } from './files';

/** Automatic failover settings (`failover: 'patroni'`). Defaults and trade-offs: docs/postgres.md, "Patroni". */
export interface PatroniProps {
  /** Seconds the leader lock lives without renewal; a replica takes over after it. @default 30 */
  readonly ttl?: number;
  /** Seconds between HA loop runs. @default 10 */
  readonly loopWait?: number;
  /** Seconds a leader retries the DCS before demoting itself. @default 10 */
  readonly retryTimeout?: number;
  /** Bytes a replica may lag and still be promoted. @default 1048576 (1 MiB) */
  readonly maximumLagOnFailover?: number;
  /**
   * Synchronous replication: a commit returns once a synchronous replica has it, so a failover loses no
   * acknowledged write; writes wait (or, with no healthy replica, Patroni drops back to async) — see the docs.
   * @default false
   */
  readonly synchronous?: boolean;
}

export interface ResolvedPatroni {
  readonly ttl: number;
  readonly loopWait: number;
  readonly retryTimeout: number;
  readonly maximumLagOnFailover: number;
  readonly synchronous: boolean;
}

/** Label Patroni sets on each member pod: `primary` on the leader, `replica` on the others. */
export const ROLE_LABEL = 'scalecharts.io/role';
export const RESTAPI_PORT = 8008;

/** Part of the PostgresCluster resolve step (lib/postgres/resolve.ts): every problem is recorded in `p`. */
export function resolvePatroni(p: Problems, props: PatroniProps | undefined): ResolvedPatroni {
  if (props !== undefined && !isRecord(props)) p.add('patroni', props, 'must be an object of Patroni props', true);
  const given: PatroniProps = isRecord(props) ? props : {};
  const int = (property: keyof PatroniProps, fallback: number, min: number, max: number): number =>
    p.value(`patroni.${property}`, given[property] ?? fallback, integerRule({ min, max }), fallback);
  const ttl = int('ttl', PATRONI.ttl, 10, 3600);
  const loopWait = int('loopWait', PATRONI.loopWait, 1, 600);
  const retryTimeout = int('retryTimeout', PATRONI.retryTimeout, 1, 600);
  // Patroni's own rule: a leader must be able to retry and run one more loop before its lock expires.
  if (loopWait + 2 * retryTimeout > ttl) {
    p.add('patroni.ttl', ttl, `must be at least loopWait + 2 × retryTimeout = ${loopWait + 2 * retryTimeout}, or the leader lock expires while the leader still retries`);
  }
  const maximumLagOnFailover = int('maximumLagOnFailover', PATRONI.maximumLagOnFailover, 0, 2 ** 40);
  const synchronous = given.synchronous === undefined ? false : p.value('patroni.synchronous', given.synchronous, booleanRule(), false);
  return { ttl, loopWait, retryTimeout, maximumLagOnFailover, synchronous };
}

export interface PatroniFilesOptions {
  readonly patroni: ResolvedPatroni;
  readonly replicationUser: string;
  /** A number, or Go template text when a chart value re-renders the file. */
  readonly maxConnections: number | string;
  readonly maxWalSenders: number;
  readonly maxReplicationSlots: number;
  readonly configDir: string;
  readonly runDir: string;
  /** WAL archiving and the restore bootstrap (lib/postgres/backup.ts). */
  readonly backup?: ResolvedBackup;
  readonly restore?: ResolvedRestore;
}

/** The ConfigMap entries Patroni members read (besides postgresql.conf). */
export function patroniFiles(o: PatroniFilesOptions): Record<string, string> {
  return {
    'patroni.yml': renderTemplate(ASSETS.patroniYml, {
      ttl: o.patroni.ttl, loopWait: o.patroni.loopWait, retryTimeout: o.patroni.retryTimeout,
      maximumLagOnFailover: o.patroni.maximumLagOnFailover, // Quorum commit: every replica votes, so the one furthest ahead can always be promoted. Plain `on` stalled a
      // failover here: an asynchronous replica ahead of the synchronous one blocked it, and could not lead itself.
      synchronousMode: o.patroni.synchronous ? 'quorum' : 'false',
      maxConnections: o.maxConnections, maxWalSenders: o.maxWalSenders,
      // Patroni refuses fewer than 4 slots (it keeps one per member on every member).
      maxReplicationSlots: Math.max(4, o.maxReplicationSlots),
      replicationUser: o.replicationUser, configDir: o.configDir, runDir: o.runDir, binDir: POSTGRES.binDir,
      ...backupPatroniYaml(o.backup, o.restore, o.configDir),
    }),
    'patroni-init.sh': readAsset(ASSETS.patroniInit),
    'post-bootstrap.sh': readAsset(ASSETS.postBootstrap),
    'patroni-pre-stop.sh': readAsset(ASSETS.patroniPreStop),
  };
}

export interface PatroniRbac {
  readonly serviceAccount: k8s.KubeServiceAccount;
  readonly role: k8s.KubeRole;
  readonly roleBinding: k8s.KubeRoleBinding;
}

/**
 * The verbs Patroni's Kubernetes DCS uses with ConfigMaps (`use_endpoints: false`): the leader lock, config and
 * failover/sync keys are ConfigMaps named `<scope>-*` it creates, reads, watches and patches; on pods it reads the
 * members and patches its own labels (role) and annotations (member state). Nothing else: no Secrets, no delete.
 */
export const PATRONI_RULES: k8s.PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list', 'patch', 'update', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
];

export function patroniRbac(scope: Construct, name: string, labels: Record<string, string>): PatroniRbac {
  const serviceAccount = new k8s.KubeServiceAccount(scope, 'service-account', {
    metadata: { name, labels },
    // Only the member pods mount the token (automountServiceAccountToken on their pod spec).
    automountServiceAccountToken: false,
  });
  const role = new k8s.KubeRole(scope, 'role', { metadata: { name, labels }, rules: PATRONI_RULES });
  const roleBinding = new k8s.KubeRoleBinding(scope, 'role-binding', {
    metadata: { name, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name }],
  });
  return { serviceAccount, role, roleBinding };
}

/**
 * Environment of a member's Patroni container: identity and addresses from the downward API, the Kubernetes DCS
 * (namespace, the cluster's labels, the role label), and what post-bootstrap.sh reads.
 */
export function patroniEnv(o: {
  scopeName: string; clusterSelector: Record<string, string>; port: number; dataDir: string;
  appUser: string; appDatabase: string; appPasswordFile: string;
}): k8s.EnvVar[] {
  const field = (fieldPath: string): k8s.EnvVarSource => ({ fieldRef: { fieldPath } });
  return [
    { name: 'POD_IP', valueFrom: field('status.podIP') },
    { name: 'PATRONI_NAME', valueFrom: field('metadata.name') },
    { name: 'PATRONI_SCOPE', value: o.scopeName },
    { name: 'PATRONI_RESTAPI_LISTEN', value: `0.0.0.0:${RESTAPI_PORT}` },
    { name: 'PATRONI_RESTAPI_CONNECT_ADDRESS', value: `$(POD_IP):${RESTAPI_PORT}` },
    { name: 'PATRONI_POSTGRESQL_LISTEN', value: `0.0.0.0:${o.port}` },
    { name: 'PATRONI_POSTGRESQL_CONNECT_ADDRESS', value: `$(POD_IP):${o.port}` },
    { name: 'PATRONI_POSTGRESQL_DATA_DIR', value: o.dataDir },
    { name: 'PATRONI_KUBERNETES_NAMESPACE', valueFrom: field('metadata.namespace') },
    { name: 'PATRONI_KUBERNETES_POD_IP', value: '$(POD_IP)' },
    // The name label only: Patroni adds its scope label, which the Helm chart prefixes with the release name.
    { name: 'PATRONI_KUBERNETES_LABELS', value: JSON.stringify({ 'app.kubernetes.io/name': o.clusterSelector['app.kubernetes.io/name'] }) },
    { name: 'PATRONI_KUBERNETES_ROLE_LABEL', value: ROLE_LABEL },
    { name: 'PATRONI_KUBERNETES_SCOPE_LABEL', value: SCOPE_LABEL },
    { name: 'PATRONI_KUBERNETES_USE_ENDPOINTS', value: 'false' },
    { name: 'APP_USER', value: o.appUser },
    { name: 'APP_DATABASE', value: o.appDatabase },
    { name: 'APP_PASSWORD_FILE', value: o.appPasswordFile },
  ];
}

/** Patroni's REST API probes: liveness while Patroni's HA loop runs (also through crash recovery it supervises). */
export const PATRONI_PROBES = {
  startupProbe: { httpGet: { path: '/liveness', port: k8s.IntOrString.fromString('patroni') }, periodSeconds: 5, timeoutSeconds: 4, failureThreshold: 60 },
  livenessProbe: { httpGet: { path: '/liveness', port: k8s.IntOrString.fromString('patroni') }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
  // 200 on the leader holding the lock and on replicas that run and stream.
  readinessProbe: { httpGet: { path: '/readiness', port: k8s.IntOrString.fromString('patroni') }, periodSeconds: 5, timeoutSeconds: 4, failureThreshold: 3 },
};

export interface MemberSetOptions {
  readonly name: string;
  readonly scopeName: string;
  readonly members: number;
  readonly image: string;
  readonly labels: Record<string, string>;
  readonly clusterSelector: Record<string, string>;
  readonly podAnnotations: Record<string, string>;
  readonly env: k8s.EnvVar[];
  readonly resources: k8s.ResourceRequirements;
  readonly securityContext: k8s.SecurityContext;
  readonly podSecurityContext: k8s.PodSecurityContext;
  readonly mounts: k8s.VolumeMount[];
  readonly passwordMounts: { init: k8s.VolumeMount[]; main: k8s.VolumeMount[] };
  readonly initEnv: k8s.EnvVar[];
  readonly volumes: k8s.Volume[];
  readonly sidecars: k8s.Container[];
  readonly placement: Partial<k8s.PodSpec>;
  readonly port: number;
  readonly configDir: string;
  readonly runDir: string;
  readonly storage: k8s.PersistentVolumeClaimSpec;
  /** Init containers after render-config (member extensions: backups). */
  readonly initContainers?: k8s.Container[];
}

/** One StatefulSet of Patroni members: an init container renders patroni.yml, the main container runs `patroni`. */
export function patroniStatefulSet(scope: Construct, o: MemberSetOptions): k8s.KubeStatefulSet {
  const init: k8s.Container = {
    name: 'render-config',
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['bash', `${o.configDir}/patroni-init.sh`],
    env: o.initEnv,
    resources: o.resources,
    securityContext: o.securityContext,
    volumeMounts: [...o.mounts, ...o.passwordMounts.init],
  };
  const postgres: k8s.Container = {
    name: 'postgres',
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['patroni', `${o.runDir}/patroni.yml`],
    env: o.env,
    ports: [
      { name: 'postgres', containerPort: o.port, protocol: 'TCP' },
      { name: 'patroni', containerPort: RESTAPI_PORT, protocol: 'TCP' },
    ],
    resources: o.resources,
    securityContext: o.securityContext,
    ...PATRONI_PROBES,
    // A leader hands over before it stops: a rollout or drain costs a switchover, not a ttl-long failover.
    lifecycle: { preStop: { exec: { command: ['bash', `${o.configDir}/patroni-pre-stop.sh`] } } },
    volumeMounts: [...o.mounts, ...o.passwordMounts.main],
  };
  return new k8s.KubeStatefulSet(scope, 'members', {
    metadata: { name: o.name, labels: o.labels },
    spec: {
      replicas: o.members,
      serviceName: `${o.name}-headless`,
      selector: { matchLabels: o.clusterSelector },
      // Patroni orders the members itself (one bootstraps, the others clone): no need to start them one by one.
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: { ...o.labels, [SCOPE_LABEL]: o.scopeName }, annotations: o.podAnnotations },
        // Ephemeral-storage requests and limits on every container, as on every other pod (issue 18).
        spec: withEphemeralStorage({
          serviceAccountName: o.scopeName,
          // Patroni talks to the Kubernetes API (its DCS) with this pod's token.
          automountServiceAccountToken: true,
          securityContext: o.podSecurityContext,
          // The preStop switchover (up to 50 s) plus a fast shutdown.
          terminationGracePeriodSeconds: 120,
          initContainers: [init, ...(o.initContainers ?? [])],
          containers: [postgres, ...o.sidecars],
          volumes: o.volumes,
          ...o.placement,
        }),
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: o.storage }],
    },
  });
}

/** Label Patroni selects its members by, with the Patroni scope as value. */
export const SCOPE_LABEL = 'scalecharts.io/patroni-scope';
