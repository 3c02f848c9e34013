import type { IConstruct } from 'constructs';
import { presetProblems } from './core/preset-rules';
import { Problems, recordErrors } from './core/problems';

/**
 * A preset changes the defaults of every scalecharts construct beneath a scope without touching call sites.
 * Presets compose: the nearest one wins, field by field; props given at the call site always win.
 *
 * It is a plain typed object, so a platform team can publish its presets as an npm package.
 */
export interface Preset {
  /**
   * HPA floor, ceiling and utilization targets for workloads, or `false` for fixed replica counts without an HPA
   * (the development tier).
   */
  readonly autoscaling?: AutoscalingDefaults | false;
  /** Fixed replica count of workloads whose autoscaling is off. */
  readonly replicas?: number;
  /** `false` leaves out workloads' PodDisruptionBudgets (single-replica development clusters). */
  readonly disruptionBudget?: boolean;
  /** PostgresCluster defaults. */
  readonly postgres?: {
    /** Streaming read replicas. */
    readonly readReplicas?: number;
    /** PgBouncer replicas. */
    readonly poolerReplicas?: number;
    /** PostgresCluster `failover`: `patroni` (the default) or `none`. */
    readonly failover?: 'none' | 'patroni';
  };
  /** RedisHA defaults: `mode: 'standalone'` runs one Redis without Sentinels (the development tier). */
  readonly redis?: {
    readonly mode?: 'sentinel' | 'standalone';
  };
  /** Container requests and limits for workloads. */
  readonly resources?: ResourceDefaults;
  /** Registry prefixed to images given without one, e.g. `registry.example.com/mirror`. */
  readonly imageRegistry?: string;
  /** Labels added to every object's metadata and pod template. */
  readonly labels?: Record<string, string>;
  /** Annotations added to every pod template. */
  readonly podAnnotations?: Record<string, string>;
  /** Tolerations added to every pod. */
  readonly tolerations?: Toleration[];
  /** Node selector added to every pod. */
  readonly nodeSelector?: Record<string, string>;
}

export interface AutoscalingDefaults {
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
  readonly cpuUtilization?: number;
  readonly memoryUtilization?: number;
}

export interface ResourceDefaults {
  readonly requests?: { readonly cpu?: string; readonly memory?: string; readonly ephemeralStorage?: string };
  readonly limits?: { readonly cpu?: string; readonly memory?: string; readonly ephemeralStorage?: string };
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  readonly tolerationSeconds?: number;
}

const PRESETS = new WeakMap<IConstruct, Preset[]>();

export class Presets {
  /** Applies `preset` to `scope` and everything beneath it. Later calls on the same scope win over earlier ones. */
  public static apply(scope: IConstruct, preset: Preset): void {
    // Checked here, once, by Kubernetes' rules; a refused preset is reported at synth and not applied.
    const problems = new Problems(scope);
    presetProblems(problems, preset);
    if (!problems.ok) {
      recordErrors(scope, problems.errors);
      return;
    }
    const list = PRESETS.get(scope) ?? [];
    list.push(preset);
    PRESETS.set(scope, list);
  }

  /** The effective preset at `scope`: every preset from the root down to `scope`, merged, nearest winning. */
  public static of(scope: IConstruct): Preset {
    let merged: Preset = {};
    for (const s of scope.node.scopes) {
      for (const p of PRESETS.get(s) ?? []) merged = mergePreset(merged, p);
    }
    return merged;
  }
}

function mergePreset(outer: Preset, inner: Preset): Preset {
  return {
    // `false` switches autoscaling off; a nearer preset with targets switches it back on.
    autoscaling: inner.autoscaling === false || (inner.autoscaling === undefined && outer.autoscaling === false)
      ? false
      : { ...(outer.autoscaling || {}), ...inner.autoscaling },
    replicas: inner.replicas ?? outer.replicas,
    disruptionBudget: inner.disruptionBudget ?? outer.disruptionBudget,
    postgres: { ...outer.postgres, ...inner.postgres },
    redis: { ...outer.redis, ...inner.redis },
    resources: {
      requests: { ...outer.resources?.requests, ...inner.resources?.requests },
      limits: { ...outer.resources?.limits, ...inner.resources?.limits },
    },
    imageRegistry: inner.imageRegistry ?? outer.imageRegistry,
    labels: { ...outer.labels, ...inner.labels },
    podAnnotations: { ...outer.podAnnotations, ...inner.podAnnotations },
    tolerations: [...(outer.tolerations ?? []), ...(inner.tolerations ?? [])],
    nodeSelector: { ...outer.nodeSelector, ...inner.nodeSelector },
  };
}
