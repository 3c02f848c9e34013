import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';

/** Horizontal Pod Autoscaler settings. */
export interface AutoscalingProps {
  /** Floor of the HPA. @default 3 — "Run 3+ replicas" (seed 000), "Start with 3 instances" (seed 002) */
  readonly minReplicas?: number;
  /** Ceiling of the HPA. @default 20 — `maxReplicas: 20` (seed 002); seed 001 uses 8 and 16 per role */
  readonly maxReplicas?: number;
  /** Target average CPU utilization in percent of requests. @default 60 — seed 000 (seed 002 uses 70) */
  readonly cpuUtilization?: number;
  /** Target average memory utilization in percent of requests. @default 75 — seed 000 (seed 002 uses 80) */
  readonly memoryUtilization?: number;
  /** Scale-up/scale-down behaviour, passed through to the HPA. @default Kubernetes' defaults */
  readonly behavior?: k8s.HorizontalPodAutoscalerBehaviorV2;
}

export interface ResolvedAutoscaling {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpuUtilization: number;
  readonly memoryUtilization: number;
  readonly behavior?: k8s.HorizontalPodAutoscalerBehaviorV2;
}

export interface HpaOptions {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly target: { readonly apiVersion: string; readonly kind: string; readonly name: string };
  readonly settings: ResolvedAutoscaling;
  /** Scale on CPU only (queue workers' fallback: their memory tracks job size, not load). @default false */
  readonly cpuOnly?: boolean;
}

/** An autoscaling/v2 HPA on CPU and memory utilization. */
export function createHpa(scope: Construct, id: string, opts: HpaOptions): k8s.KubeHorizontalPodAutoscalerV2 {
  const { settings } = opts;
  const utilization = (name: string, averageUtilization: number): k8s.MetricSpecV2 => ({
    type: 'Resource',
    resource: { name, target: { type: 'Utilization', averageUtilization } },
  });
  return new k8s.KubeHorizontalPodAutoscalerV2(scope, id, {
    metadata: { name: opts.name, labels: opts.labels },
    spec: {
      scaleTargetRef: opts.target,
      minReplicas: settings.minReplicas,
      maxReplicas: settings.maxReplicas,
      metrics: opts.cpuOnly
        ? [utilization('cpu', settings.cpuUtilization)]
        : [utilization('cpu', settings.cpuUtilization), utilization('memory', settings.memoryUtilization)],
      ...(settings.behavior ? { behavior: settings.behavior } : {}),
    },
  });
}
