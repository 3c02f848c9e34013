import type { IConstruct } from 'constructs';

/**
 * A preset changes the defaults of every scalecharts construct beneath a scope without touching call sites.
 * Presets compose: the nearest one wins, field by field; props given at the call site always win.
 *
 * It is a plain typed object, so a platform team can publish its presets as an npm package.
 */
export interface Preset {
  /** HPA floor, ceiling and utilization targets for workloads. */
  readonly autoscaling?: {
    readonly minReplicas?: number;
    readonly maxReplicas?: number;
    readonly cpuUtilization?: number;
    readonly memoryUtilization?: number;
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

export interface ResourceDefaults {
  readonly requests?: { readonly cpu?: string; readonly memory?: string };
  readonly limits?: { readonly cpu?: string; readonly memory?: string };
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
    autoscaling: { ...outer.autoscaling, ...inner.autoscaling },
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
