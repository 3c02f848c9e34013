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
  /** Grace period for in-flight requests on shutdown (Kubernetes' own default, kept explicit). */
  terminationGracePeriodSeconds: 30,
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

/** Postgres tier (000, 003). */
export const POSTGRES = {
  /** "Vertical first: start with 4 vCPU / 16 GB RAM" (000). */
  cpu: '4',
  memory: '16Gi',
  /** "deploy 1–2 read replicas" (000); streaming replication bootstrapped by pg_basebackup (003). */
  readReplicas: 2,
  /** `wal_level=replica`, `max_wal_senders=3`, `max_replication_slots=3` (003). */
  walLevel: 'replica',
  maxWalSenders: 3,
  maxReplicationSlots: 3,
  /** "autovacuum on; tune autovacuum_vacuum_scale_factor=0.05" (000). */
  autovacuumVacuumScaleFactor: 0.05,
  /** PgBouncer "in transaction-pooling mode" (000). */
  poolMode: 'transaction',
} as const;

/** Redis tier (000, 003). */
export const REDIS = {
  /** "Replicated (1 primary + 2 replicas) for HA — failover via Sentinel" (000); "Sentinel (3 nodes)" (003). */
  replicas: 3,
  sentinels: 3,
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
  /** Proxy image: nginx ≥ 1.27.3 re-resolves provider names at run time; uid 101 (the image's `nginx` user). */
  proxyImage: 'nginxinc/nginx-unprivileged:1.28.0-alpine',
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
