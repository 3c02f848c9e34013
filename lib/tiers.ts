import type { Preset } from './presets';

/**
 * Environment tiers from seed 003's "Production Deployment Recommendations" table, as presets:
 *
 * | component (seed 003)  | development | small production  | large production            |
 * |-----------------------|-------------|-------------------|-----------------------------|
 * | stateless services    | 1 instance  | 1–2 / 2 instances | 2+ / 3+ instances           |
 * | PostgreSQL            | single      | primary + replica | managed service             |
 * | Redis                 | single      | Sentinel (3 nodes)| managed service / cluster   |
 *
 * Apply one to an app or chart with `Presets.apply(scope, TIERS['small-production'])`; anything set at a call site
 * or in a nearer preset still wins.
 */
export const TIERS = {
  /** One replica of everything, no HPA, no PDB, Postgres without replicas and a single pooler, one Redis without Sentinels. */
  development: {
    autoscaling: false,
    replicas: 1,
    disruptionBudget: false,
    postgres: { readReplicas: 0, poolerReplicas: 1 },
    redis: { mode: 'standalone' },
  },
  /** "2 instances" for the stateless services, Postgres "Primary + replica", Redis "Sentinel (3 nodes)" (RedisHA's default). */
  'small-production': {
    autoscaling: { minReplicas: 2 },
    postgres: { readReplicas: 1 },
  },
  /**
   * "3+ instances", Postgres with two streaming replicas (seed 000's 1–2; seed 003 suggests a managed service at this
   * size), Redis Sentinel (seed 003's cluster mode is out of scope below ~100 GB / 50k RPS, seed 000).
   */
  'large-production': {
    autoscaling: { minReplicas: 3 },
    postgres: { readReplicas: 2 },
  },
} as const satisfies Record<string, Preset>;

export type Tier = keyof typeof TIERS;
