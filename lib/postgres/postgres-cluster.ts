import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { PostgresConnectionInfo } from '../connections';
import { recordErrors } from '../core/problems';
import { WARNING_METADATA } from '../core/warnings';
import { applyDatastorePodProps } from '../datastore-pod';
import { generatedPassword } from '../generated-secret';
import { Knobs } from '../knobs';
import type { IngressPolicy } from '../network-policy';
import type { ResolvedResources } from '../pod';
import { Presets } from '../presets';
import { declarePostgresKnobs } from './knobs';
import { PORT, hashOf, knobHash } from './layout';
import { patroniMembers, plainMembers, postgresConfigMap } from './members';
import { postgresMonitoring } from './monitoring';
import { ResolvedPatroni, SCOPE_LABEL, patroniRbac } from './patroni';
import type { PatroniRbac } from './patroni';
import { poolerConfigMap, poolerDeployment, poolerName } from './pooler';
import type { PostgresClusterProps, PostgresSettings } from './props';
import { ResolvedPostgresCluster, resolvePostgresCluster } from './resolve';
import { postgresNetworkPolicies, postgresPdbs, postgresServices, readOnlyHost, readWriteHost } from './services';

export * from './props';
export type { ResolvedPostgresCluster } from './resolve';

/**
 * A PostgreSQL 17 cluster: the members (Patroni with automatic failover, or a primary and streaming replicas), a
 * PgBouncer pooler in transaction mode whose pools can never exceed Postgres' max_connections minus a headroom,
 * Services, PodDisruptionBudgets, NetworkPolicies and optional monitoring.
 *
 * Data flows one way: props + preset + defaults → {@link resolvePostgresCluster} (every error at once) → the render
 * modules beside this file (members.ts, pooler.ts, services.ts, monitoring.ts, knobs.ts), which read only the spec.
 */
export class PostgresCluster extends Construct {
  public readonly name: string;
  /** How clients reach the cluster: hosts, port, database, role, password Secret and connection budget. */
  public readonly connection: PostgresConnectionInfo;
  /** Every derived number. */
  public readonly settings: PostgresSettings;
  public readonly replicas: number;
  /** Postgres container resources (also the bootstrap init container's). */
  public readonly resources: ResolvedResources;
  public readonly poolerResources: ResolvedResources;
  /** The resolved spec everything below is rendered from. */
  public readonly spec: ResolvedPostgresCluster;
  // The objects are unset only when the props were refused (then nothing is rendered and synth reports the errors).
  public readonly configMap!: k8s.KubeConfigMap;
  public readonly poolerConfigMap!: k8s.KubeConfigMap;
  /** The primary StatefulSet, or with Patroni the one StatefulSet of all members. */
  public readonly primary!: k8s.KubeStatefulSet;
  /** Undefined with Patroni and when the cluster has no replicas. */
  public readonly replicaSet?: k8s.KubeStatefulSet;
  public readonly pooler!: k8s.KubeDeployment;
  public readonly headlessService!: k8s.KubeService;
  public readonly readWriteService!: k8s.KubeService;
  public readonly readOnlyService?: k8s.KubeService;
  public readonly poolerService!: k8s.KubeService;
  /** The cluster-wide budget: one database pod (any role) at a time. */
  public readonly pdb!: k8s.KubePodDisruptionBudget;
  /** With Patroni: its resolved settings and the ServiceAccount, Role and RoleBinding its DCS uses. */
  public readonly patroni?: ResolvedPatroni & { readonly rbac: PatroniRbac };
  public readonly poolerPdb!: k8s.KubePodDisruptionBudget;
  public readonly serviceMonitors: ApiObject[] = [];
  public readonly prometheusRule?: ApiObject;
  public readonly networkPolicies: k8s.KubeNetworkPolicy[] = [];
  /** Labels a client pod needs to pass the NetworkPolicies (when enabled). */
  public readonly clientLabels: Record<string, string>;
  /** Synth-time warnings (also recorded as construct metadata `scalecharts:warning`). */
  public readonly warnings: string[] = [];
  private readonly ingressPolicies: IngressPolicy[] = [];

  constructor(scope: Construct, id: string, props: PostgresClusterProps) {
    super(scope, id);
    // One resolve step (props + preset + defaults, every problem found), then rendering from the resolved spec only.
    const { spec, errors } = resolvePostgresCluster(this, id, props, Presets.of(this));
    this.spec = spec;
    this.name = spec.name;
    this.settings = spec.settings;
    this.replicas = spec.replicas;
    this.resources = spec.resources;
    this.poolerResources = spec.pooler.resources;
    this.clientLabels = spec.clientLabels;
    const { settings } = spec;
    this.connection = {
      readWriteHost: readWriteHost(spec),
      readOnlyHost: spec.replicas > 0 ? readOnlyHost(spec) : undefined,
      poolerHost: poolerName(spec),
      port: PORT,
      database: spec.database,
      user: spec.user,
      passwordSecret: spec.credentials.app,
      maxConnections: settings.maxConnections,
      reservedConnections: settings.headroom.total,
      poolerMaxClientConnections: settings.pooler.totalClientConnections,
      poolerServerConnections: settings.pooler.totalServerConnections,
    };
    if (errors.length > 0) {
      // Reported by `cdk8s synth` with every other construct's errors; nothing is rendered from a refused spec.
      recordErrors(this, errors);
      return;
    }
    this.render(spec);
    applyDatastorePodProps(this, props);
  }

  /**
   * Lets pods matching `selector` reach Postgres and the pooler through the NetworkPolicies (a no-op when policies
   * are off, or when `clientLabels` already admit them). `connectPostgres` calls it for every wired workload.
   */
  public allowClient(selector: Record<string, string>): void {
    const admitted = Object.entries(this.clientLabels).every(([k, v]) => selector[k] === v);
    if (admitted) return;
    for (const policy of this.ingressPolicies) policy.allowClient(selector);
  }

  private render(spec: ResolvedPostgresCluster): void {
    const self = this as { -readonly [K in keyof PostgresCluster]: PostgresCluster[K] };
    for (const message of spec.warnings) {
      this.warnings.push(message);
      this.node.addMetadata(WARNING_METADATA, message);
    }
    // Credentials the caller left out: a Helm chart generates them per release; plain manifests list them to create.
    const generated: Record<string, string> = { superuser: 'superuser-password', replication: 'replication-password', app: 'app-password' };
    for (const role of spec.generatedCredentials) generatedPassword(this, generated[role], spec.credentials[role].secretName);

    self.configMap = postgresConfigMap(this, spec);
    self.poolerConfigMap = poolerConfigMap(this, spec);
    const services = postgresServices(this, spec);
    self.headlessService = services.headless;
    self.readWriteService = services.readWrite;
    self.readOnlyService = services.readOnly;
    self.poolerService = services.pooler;

    // The pod annotations are what the Helm chart's templates compute from the same values (knobs.ts), so the
    // chart's default render equals the plain synth.
    const postgresHash = hashOf(this.configMap);
    const poolerHash = hashOf(this.poolerConfigMap);
    const { pooler } = spec.settings;
    const members = { configMapName: this.configMap.name, configHash: knobHash(postgresHash, [spec.settings.maxConnections]), rwHost: readWriteHost(spec) };
    if (spec.patroni) {
      // Named after the Patroni scope, so a Helm release prefixes the scope (env, pod label) with the names.
      const rbac = patroniRbac(this, `${spec.name}-patroni`, spec.labels.database);
      self.patroni = { ...spec.patroni, rbac };
      self.primary = patroniMembers(this, spec, members);
      this.declarePatroniScope();
    } else {
      self.primary = plainMembers(this, spec, 'primary', members);
      if (spec.replicas > 0) self.replicaSet = plainMembers(this, spec, 'replica', members);
    }
    self.pooler = poolerDeployment(this, spec, {
      configMapName: this.poolerConfigMap.name, rwHost: readWriteHost(spec),
      configHash: knobHash(poolerHash, [pooler.defaultPoolSize, pooler.reservePoolSize, pooler.maxClientConn]),
    });

    const pdbs = postgresPdbs(this, spec);
    self.pdb = pdbs.pdb;
    self.poolerPdb = pdbs.poolerPdb;

    const monitoring = postgresMonitoring(this, spec);
    this.serviceMonitors.push(...monitoring.serviceMonitors);
    self.prometheusRule = monitoring.prometheusRule;
    // On by default (issue 15): wired clients, the pooler, replication and the exporter scrape get through.
    if (spec.networkPolicy) {
      this.ingressPolicies.push(...postgresNetworkPolicies(this, spec));
      this.networkPolicies.push(...this.ingressPolicies.map((p) => p.policy));
    }
    declarePostgresKnobs(this, spec, {
      configMap: this.configMap, poolerConfigMap: this.poolerConfigMap, primary: this.primary, replicaSet: this.replicaSet,
      pooler: this.pooler, postgresHash, poolerHash,
    });
  }

  /**
   * In a Helm chart the scope (leader lock `<scope>-leader`) and the pod label Patroni selects members by both get the
   * release prefix, so two releases in one namespace never share a Patroni cluster.
   */
  private declarePatroniScope(): void {
    const env = this.primary.toJson().spec.template.spec.containers[0].env as k8s.EnvVar[];
    const scopeTemplate = `{{ .Release.Name }}-{{ $values.patroni.scope }}`;
    Knobs.declare(this, {
      key: 'patroni.scope', description: 'Patroni scope after the release name (its ConfigMaps are <release>-<scope>-leader, -config, -failover, -sync)',
      schema: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$' }, default: `${this.name}-patroni`,
      targets: [
        { object: this.primary, path: ['spec', 'template', 'spec', 'containers', 0, 'env', env.findIndex((e) => e.name === 'PATRONI_SCOPE'), 'value'], template: scopeTemplate },
        { object: this.primary, path: ['spec', 'template', 'metadata', 'labels', SCOPE_LABEL], template: scopeTemplate },
      ],
    });
  }
}
