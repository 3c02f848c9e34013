/**
 * Every documented default in one place, each with the scaling note it comes from
 * (`shared/seeds/NNN_*.txt`: 000 IDA, 001 Caracal, 002 StrataRouter, 003 Sorcha, 004 Ciel).
 *
 * Where two notes disagree we pick one default and name the other, so a preset can choose it.
 */

/** Stateless tier (API-style services). */
export const STATELESS = {
  /** "Run 3+ replicas behind the LB" (000); "Start with 3 instances — Minimum for HA" (002). */
  minReplicas: 3,
  /** Generic HPA ceiling: `maxReplicas: 20` (002). Role ceilings in {@link ROLE_MAX_REPLICAS}. */
  maxReplicas: 20,
  /** "HPA target: CPU 60%" (000). */
  cpuUtilization: 60,
  /** "HPA target: ... memory 75%" (000). */
  memoryUtilization: 75,
  /** Other documented pair: `averageUtilization: 70` CPU / `80` memory (002). */
  alternativeCpuUtilization: 70,
  /** See {@link STATELESS.alternativeCpuUtilization} (002). */
  alternativeMemoryUtilization: 80,
  /** Requests `cpu: "500m"`, `memory: "256Mi"` (002); steady state 250–500m, 256–512Mi per pod at ~100 RPS (000). */
  requests: { cpu: '500m', memory: '256Mi' },
  /** Limits `cpu: "2000m"`, `memory: "1Gi"` (002). */
  limits: { cpu: '2000m', memory: '1Gi' },
  /** Readiness endpoint `/ready` ("/ready stabilizes", 001); metrics at `/metrics` ("Expose /metrics", 004). */
  readinessPath: '/ready',
  metricsPath: '/metrics',
  /** Container port of the application; seed 002 uses 8000, seed 001 per service. Our default: 8080. */
  containerPort: 8080,
  /** Service port in front of it (002: `port: 80`). */
  servicePort: 80,
  /** Seconds a starting pod may take before liveness applies (startup probe every 2 s); slow JVM/migrations-at-boot images fit. */
  startupTimeoutSeconds: 120,
  /** Grace period for in-flight requests on shutdown (Kubernetes' own default, kept explicit). */
  terminationGracePeriodSeconds: 30,
  /**
   * Deadline of a migration Job ("run once, before new pods take traffic", 003/004): Helm's default `--timeout`
   * (5 min), so a hung migration fails the upgrade instead of outliving it.
   */
  migrationTimeoutSeconds: 300,
  /** Retries of a failed migration pod: one, for a lost node; migration tools hold a lock and are transactional. */
  migrationBackoffLimit: 1,
} as const;

/** Default max HPA replicas per Caracal role (001): API/STS/Audit/Coordinator 8, Gateway 16; default 2 replicas. */
export const ROLE_MAX_REPLICAS = {
  api: 8,
  sts: 8,
  gateway: 16,
  audit: 8,
  coordinator: 8,
} as const;

/** Process modes of one image (004): `APP_MODE=api|worker|combined|serverless-worker`. */
export const APP_MODES = ['api', 'worker', 'combined', 'serverless-worker'] as const;
export type AppMode = (typeof APP_MODES)[number];

/** Database connection budgeting (000, 004). */
export const DB_POOL = {
  /** Per-pod pool: min(50, max_connections / pods) (000, "see pgxpool.Config.MaxConns"). */
  maxPerPod: 50,
  /** Pool use ratio that should alert: "Postgres pool ratio near 0.9" (001). */
  saturationAlertRatio: 0.9,
} as const;

/** Postgres tier (000, 003). Derived settings (memory, pool sizes, headroom) live in `lib/postgres/sizing.ts`. */
export const POSTGRES = {
  /**
   * Official image, pinned to a 17.x minor release: seed 003 runs PostgreSQL 17, and the real-process tests run
   * Debian 13's 17.12 (scripts/setup.d/postgres.sh).
   */
  image: 'postgres:17.12',
  /** "Vertical first: start with 4 vCPU / 16 GB RAM" (000). Requests = limits: a database should not be throttled. */
  cpu: '4',
  memory: '16Gi',
  /** "deploy 1–2 read replicas" (000); streaming replication bootstrapped by pg_basebackup (003). */
  readReplicas: 2,
  /**
   * Patroni, automatic failover (issue 15): losing the primary must not need a human; every system people would
   * pick instead (CloudNativePG, Zalando/Spilo, Bitnami postgresql-ha) fails over by itself. The notes give the
   * topology (primary + replicas, 000 and 003), not the failover mechanism. `none` stays an option.
   */
  failover: 'patroni',
  /** `wal_level=replica`, `max_wal_senders=3`, `max_replication_slots=3` (003); raised to replicas + 1 when needed. */
  walLevel: 'replica',
  maxWalSenders: 3,
  maxReplicationSlots: 3,
  /** "autovacuum on; tune autovacuum_vacuum_scale_factor=0.05" (000). */
  autovacuumVacuumScaleFactor: 0.05,
  /** PostgreSQL's own default `max_connections`, kept: the pooler multiplies it for clients (000). */
  maxConnections: 100,
  /** Volume per Postgres pod. Not in the notes: a starting size that is easy to grow. */
  storage: '50Gi',
  /** PgBouncer "in transaction-pooling mode" (000). */
  poolMode: 'transaction',
  /** Pooler replicas: two, so one can be drained or crash without an outage ("2+ replicas", issue 3). */
  poolerReplicas: 2,
  /** PgBouncer is single-threaded: one core is its ceiling. */
  poolerRequests: { cpu: '100m', memory: '64Mi' },
  poolerLimits: { cpu: '1', memory: '256Mi' },
  /**
   * PgBouncer image: maintained, pins the PgBouncer release in its tag (`v<pgbouncer>-p<patch>`). 1.24.1 is the
   * release the real-process tests run (Debian 13's package): the PgBouncer that ships is the one tested (issue 15).
   */
  poolerImage: 'edoburu/pgbouncer:v1.24.1-p0',
  /**
   * PgBouncer `max_prepared_statements`, set explicitly. In transaction mode, 0 (PgBouncer's default before 1.25)
   * breaks drivers that prepare named statements by default: postgres.js lost commits, node-postgres ran another
   * client's statement, psycopg 3 and asyncpg failed (issue 15, on 1.18). 200 is 1.25's default; PgBouncer keeps up
   * to this many statements per server connection and re-prepares them on whichever connection a client gets.
   */
  poolerMaxPreparedStatements: 200,
  /**
   * Startup probe failures × 5 s period = 30 minutes for the postmaster to answer at all. Ours, not the notes':
   * crash recovery itself is not bounded by it (liveness accepts a recovering postmaster, issue 15).
   */
  startupProbeFailures: 360,
  /** PostgreSQL binaries in the official image, Spilo and Debian's packages. */
  binDir: '/usr/lib/postgresql/17/bin',
  /** Prometheus community exporters (optional sidecars). */
  postgresExporterImage: 'quay.io/prometheuscommunity/postgres-exporter:v0.17.1',
  pgbouncerExporterImage: 'quay.io/prometheuscommunity/pgbouncer-exporter:v0.10.2',
  exporterRequests: { cpu: '50m', memory: '64Mi' },
  exporterLimits: { cpu: '250m', memory: '128Mi' },
  /** Replication lag that alerts, in seconds. Not in the notes: a replica half a minute behind serves stale reads. */
  replicationLagAlertSeconds: 30,
} as const;

/**
 * Patroni automatic failover of a PostgresCluster (`failover: 'patroni'`, issue 15). Patroni's own defaults, kept:
 * the notes give no numbers; docs/postgres.md ("Patroni") shows the failover bound they give.
 */
export const PATRONI = {
  /**
   * Spilo, Zalando's image of PostgreSQL + Patroni (Apache-2.0), run with plain `patroni <config>`: the one
   * maintained image that ships both, used by the Zalando operator. Its `postgres` user is UID 101.
   */
  image: 'ghcr.io/zalando/spilo-17:4.0-p3',
  uid: 101,
  /** Leader lock lifetime: the worst-case failover wait after a leader dies (plus one loop). */
  ttl: 30,
  /** HA loop period. */
  loopWait: 10,
  /** DCS retries before a leader demotes itself; ttl ≥ loopWait + 2 × retryTimeout. */
  retryTimeout: 10,
  /** A replica this far behind (bytes) is never promoted: 1 MiB. */
  maximumLagOnFailover: 1_048_576,
} as const;

/**
 * Continuous backups of a PostgresCluster (issue 16). Seed 001 names "backup windows" as a Postgres concern but gives
 * no numbers; the values below are ours (marked), chosen as CloudNativePG, Crunchy PGO and Spilo do by default.
 */
export const BACKUP = {
  /**
   * pgBackRest 2.55.1, the Debian 13 package the tests run. Spilo 17 4.0-p3 (the Patroni image) ships WAL-G 3.0.5
   * and no pgBackRest: a member with `backup` runs this image, Spilo 17 4.0-p3 plus pgBackRest 2.55.1 from the
   * PostgreSQL apt repository (images/spilo-pgbackrest/Dockerfile). docs/postgres.md, "Backups and recovery".
   */
  image: 'ghcr.io/scalecharts/spilo-17-pgbackrest:4.0-p3-2.55.1',
  /** Seed 001 "backup windows": one full backup a day inside a night window, 02:30 UTC (ours: the hour). */
  schedule: '30 2 * * *',
  /** Full backups kept: 7, a week of daily backups (issue 16; ours). */
  retentionFull: 7,
  /** zstd: pgBackRest's best ratio for the CPU (ours; lz4 is faster, gz the most compatible). */
  compression: 'zst',
  /** archive_timeout 60 s: at most a minute of committed work is only local when writes are rare (ours; CloudNativePG uses 5 min). */
  archiveTimeout: 60,
  /** AWS's default region, which most S3-compatible servers accept. */
  region: 'us-east-1',
  /** AWS's virtual-host addressing; S3-compatible servers usually want `path`. */
  uriStyle: 'host',
  /**
   * One archive-push attempt ends after 30 s (ours): time for a 16 MiB segment at 0.5 MiB/s; against an unreachable
   * store pgBackRest alone would retry for ~18 min, hiding the outage from pg_stat_archiver. Postgres retries.
   */
  archivePushTimeoutSeconds: 30,
  /** A backup may take up to 6 h beyond its schedule before PostgresBackupTooOld fires (ours). */
  backupDurationAllowanceSeconds: 6 * 3600,
  /** The backup sidecar: idle between backups; pgBackRest compresses with one process per core of the limit. */
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '1', memory: '512Mi' },
} as const;

/** Redis tier (000, 003). Values marked "ours" are scalecharts choices, explained where they are used (lib/redis/). */
export const REDIS = {
  /** "Replicated (1 primary + 2 replicas) for HA — failover via Sentinel" (000); the development tier is "single" (003). */
  mode: 'sentinel',
  /** "Replicated (1 primary + 2 replicas) for HA — failover via Sentinel" (000): replicas besides the primary. */
  replicas: 2,
  /** "Sentinel (3 nodes)" (003): the smallest odd group that survives losing one Sentinel. */
  sentinels: 3,
  /** Majority of 3 Sentinels must agree the master is down (000, 003 "Sentinel with 3 sentinels"). */
  quorum: 2,
  /** "Eviction: allkeys-lru" (000). */
  maxmemoryPolicy: 'allkeys-lru',
  /** `--appendonly yes`, `--requirepass`, `--masterauth` (003). */
  appendonly: true,
  /** "Cluster mode only if memory > 100 GB or > 50k RPS" (000): out of scope for RedisHA. */
  clusterModeMemoryGiB: 100,
  clusterModeRps: 50_000,
  /** "Single-instance is fine ... up to ~5k RPS" (000). */
  singleInstanceRps: 5_000,
  /** Official image, Debian variant (ours: pinned 7.0 patch release, the config syntax the tests run). */
  image: 'redis:7.0.15-bookworm',
  /** UID/GID of the `redis` user in the official image. */
  user: 999,
  port: 6379,
  sentinelPort: 26379,
  /** Ours: memory requests = limits (a datastore must not be the first evicted under node memory pressure). */
  requests: { cpu: '250m', memory: '1Gi' },
  limits: { cpu: '1', memory: '1Gi' },
  sentinelRequests: { cpu: '50m', memory: '64Mi' },
  sentinelLimits: { cpu: '250m', memory: '128Mi' },
  /** Ours: maxmemory = 70 % of the memory limit; the rest is headroom for the AOF-rewrite fork, buffers, fragmentation. */
  maxmemoryPercent: 70,
  /** Ours: fast detection so a failover completes within ~30 s even after one failed election (see lib/redis/). */
  downAfterMilliseconds: 5_000,
  failoverTimeoutMilliseconds: 10_000,
  /** Redis' own default: replicas resync with a new master one at a time, the others keep serving reads. */
  parallelSyncs: 1,
  /** Ours: bound of the master's preStop switchover (pause writes, SENTINEL FAILOVER, a replica answers as master); measured ~1-2 s. */
  switchoverTimeoutSeconds: 10,
  /** Ours: a master cut off from every replica stops taking writes after min-replicas-max-lag (10 s). */
  minReplicasToWrite: 1,
  /** Ours: persistent volume = 3 x memory limit (AOF base + growth until rewrite + rewrite temp), at least 1 GiB. */
  storagePerMemory: 3,
  /** redis_exporter sidecar (ours: pinned release with Sentinel ckquorum metrics). */
  exporterImage: 'oliver006/redis_exporter:v1.69.0',
  exporterPort: 9121,
  exporterRequests: { cpu: '20m', memory: '32Mi' },
  exporterLimits: { cpu: '200m', memory: '64Mi' },
  /** Ours: warn when used memory stays above 90 % of maxmemory (allkeys-lru then evicts keys). */
  memoryAlertRatio: 0.9,
} as const;

/** Blockchain JSON-RPC pool (000). */
export const RPC = {
  /** "maintain 2–3 RPC URLs and round-robin ... failover on 5xx or RPC error" (000). */
  minUpstreams: 2,
  maxDocumentedUpstreams: 3,
  /** "alert if > 2x baseline" on eth_gasPrice (000). */
  gasPriceAlertFactor: 2,
  /** "Self-hosted node preferred for hot workloads" (000): its weight against 1 for each provider (our choice). */
  selfHostedWeight: 5,
  // The values below are our choices; the seeds give none.
  /** Proxy image of the `nginx` engine: nginx ≥ 1.27.3 re-resolves provider names at run time; uid 101 (the image's `nginx` user). */
  proxyImage: 'nginxinc/nginx-unprivileged:1.28.0-alpine',
  /**
   * Proxy image of the `njs` engine (the default): nginx 1.26.3 with njs 0.8.9, the versions the tests run (Debian
   * trixie's nginx 1.26.3 and libnginx-mod-http-js 0.8.9, scripts/setup.d/rpc.sh).
   */
  njsProxyImage: 'nginxinc/nginx-unprivileged:1.26.3-alpine',
  /** JSON-RPC-aware engine by default: seed 000 asks for failover "on 5xx or RPC error". */
  engine: 'njs',
  /** Blocks an upstream's head may trail the best one's before it gets no traffic (~2 min on Ethereum mainnet). */
  maxBlockLag: 10,
  /** Seconds between eth_blockNumber polls of each upstream, per pod (3 pods x 3 upstreams: ~1.8 calls/s in all). */
  headPollIntervalSeconds: 5,
  /** Seconds a rate-limited upstream (-32005, HTTP 429) is skipped. */
  rateLimitBackoffSeconds: 10,
  /** Largest upstream answer the njs front reads (eth_getLogs answers run to megabytes). */
  maxResponseBytes: 16 * 1024 * 1024,
  /** Loopback-only control port of the njs engine (head polls, /_rpc_state). */
  controlPort: 18545,
  /** Namespace whose pods may scrape the exporter through the NetworkPolicy (where Prometheus usually runs). */
  metricsNamespace: 'monitoring',
  proxyUser: 101,
  /** Metrics exporter sidecar (standard library Python). */
  exporterImage: 'python:3.12.8-alpine3.21',
  exporterPort: 9145,
  exporterResources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '250m', memory: '96Mi' } },
  /** The JSON-RPC port every Ethereum client uses. */
  port: 8545,
  weight: 1,
  /** Seconds to connect to a provider / for it to answer, per attempt. */
  connectTimeoutSeconds: 2,
  readTimeoutSeconds: 10,
  /** Attempts per request (first included), capped by the number of upstreams. */
  maxTries: 3,
  /** Seconds after the first attempt during which another may start. */
  retryTimeoutSeconds: 15,
  /** Passive health: this many failures within failTimeoutSeconds mark an upstream down for failTimeoutSeconds. */
  maxFails: 2,
  failTimeoutSeconds: 15,
  /** Largest request: a blob transaction with 6 blobs is ~1.6 MB hex-encoded. */
  maxRequestBodyBytes: 2 * 1024 * 1024,
  /** Seconds a WebSocket subscription may stay idle. */
  wsIdleTimeoutSeconds: 3600,
  /** Alert when more than this share of one upstream's attempts fail over 5 minutes. */
  upstreamErrorRatioAlert: 0.1,
  /** Window of the gas price baseline (avg_over_time). */
  gasPriceBaselineWindow: '1d',
} as const;

/** Capacity planning (002). */
export const CAPACITY = {
  /** `peak_multiplier = 3.0  # 3x average during peak` (002). */
  peakMultiplier: 3,
  /** `instances_needed = queries_per_second_peak / 15_000` (002). */
  rpsPerInstance: 15_000,
} as const;

/** Queue workers (004, 001). */
export const WORKERS = {
  /** Workers keep one replica warm unless scale-to-zero is asked for (KEDA's own default minReplicaCount is 0). */
  minReplicas: 1,
  /** Generic ceiling, as for stateless services: `maxReplicas: 20` (002). */
  maxReplicas: 20,
  /** Without a queue trigger the fallback is a CPU HPA at the documented 60 % (000). */
  cpuUtilization: 60,
  /** KEDA's defaults: poll every 30 s, scale to zero after 300 s idle (keda.sh/docs/2.16/reference/scaledobject-spec). */
  pollingIntervalSeconds: 30,
  cooldownPeriodSeconds: 300,
  /**
   * Target queue depth per replica when a trigger names none: KEDA's own scaler defaults, written out so the
   * ScaledObject says what it scales on — 5 for Redis Streams pendingEntriesCount / lagCount, Redis listLength and
   * SQS queueLength (keda.sh/docs/2.16/scalers/redis-streams, redis-lists, aws-sqs); 20 for RabbitMQ, the default of
   * its former `queueLength` field (keda.sh/docs/2.16/scalers/rabbitmq-queue). The seeds give no per-replica depth.
   */
  triggerTargets: { pendingEntriesCount: 5, lagCount: 5, listLength: 5, queueLength: 5, rabbitmqValue: 20 },
  /**
   * Time for in-flight jobs to finish after SIGTERM. Longer than the 30 s for requests: a media job (004) takes
   * longer than a request, and at-least-once delivery (004) redelivers whatever is cut off.
   */
  terminationGracePeriodSeconds: 120,
  /** Deliveries before a message goes to the dead-letter queue ("Use a DLQ for poison messages", 004). */
  maxDeliveryAttempts: 5,
  /** Same documented container sizes as the stateless tier (002). */
  requests: { cpu: '500m', memory: '256Mi' },
  limits: { cpu: '2000m', memory: '1Gi' },
  /**
   * Liveness contract (issue 18; ours): the worker touches `heartbeatFile` at least every `heartbeatMaxAgeSeconds`
   * (between jobs and on progress of long ones); an exec probe restarts it when the file grows older. The file lives
   * on the /tmp emptyDir, the only writable path. `startupSeconds`: time before the first heartbeat must exist.
   */
  heartbeatFile: '/tmp/heartbeat',
  heartbeatMaxAgeSeconds: 60,
  healthPath: '/healthz',
  startupSeconds: 120,
  /** Alerts: consumer lag growing, DLQ non-empty, pool pinned at its ceiling (001: "Audit consumer lag", "DLQ growth"). */
  lagGrowingMinutes: 10,
  deadLetterThreshold: 1,
  atMaxReplicasMinutes: 15,
} as const;

/**
 * Ephemeral storage of every container (issue 18; the seeds give no numbers, these are ours). A pod without a request
 * is among the first evicted under node disk pressure: for a Postgres primary that is an unplanned failover.
 * Container logs count against it; kubelet keeps at most `containerLogMaxFiles` (5) × `containerLogMaxSize` (10Mi)
 * = 50Mi of them per container (kubelet's defaults). Root filesystems are read-only, so the writable layer stays near
 * empty. Disk-backed emptyDirs count too: each one's sizeLimit is added to the limit of the first container that
 * mounts it (memory-backed ones count against memory instead). Overridable per construct with
 * `resources.requests.ephemeralStorage` / `resources.limits.ephemeralStorage`, and per container.
 */
export const EPHEMERAL_STORAGE = {
  /** Request: the rotated logs (50Mi) plus a little for the writable layer. */
  request: '64Mi',
  /** Limit before emptyDirs: logs (50Mi) plus room for a writable layer or a `kubectl cp` into /tmp. */
  limit: '256Mi',
  /** An emptyDir without sizeLimit is counted at this size (give it a sizeLimit instead). */
  unsizedEmptyDir: '1Gi',
} as const;

/**
 * NetworkPolicy defaults (issue 18). Ingress controllers and Prometheus run in their own namespaces; the
 * namespaces are selected by the `kubernetes.io/metadata.name` label Kubernetes sets on every namespace (1.22+).
 */
export const NETWORK_POLICY = {
  /** Namespace of the ingress controller (ingress-nginx's default install). */
  ingressControllerNamespace: 'ingress-nginx',
  /** Namespace Prometheus scrapes from (kube-prometheus-stack's / kube-prometheus' conventional namespace). */
  metricsNamespace: 'monitoring',
} as const;

/**
 * Ingress defaults of a chart (issue 17). A StatelessService without an Ingress still offers `ingress.enabled` in its
 * chart; the host it then suggests is `<name>.<exampleDomain>`, a domain reserved for examples (RFC 2606) as
 * `helm create`'s `chart-example.local` is, so an unchanged default never routes a real name. Not from a seed note.
 */
export const INGRESS = {
  exampleDomain: 'example.com',
} as const;

/**
 * Probe timing of StatelessService (issue 17 made each one tunable; these are the values it always rendered).
 * Readiness answers fast and often, so a pod leaves the Service within ~15 s of `/ready` failing (001: "/ready
 * stabilizes"); liveness is slower and TCP by default, so a dependency outage never restarts healthy pods; startup
 * polls every 2 s for `startupTimeoutSeconds`.
 */
export const STATELESS_PROBES = {
  readiness: { periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
  liveness: { periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
  startupPeriodSeconds: 2,
} as const;
