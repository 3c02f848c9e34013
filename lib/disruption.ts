import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';

export interface PdbOptions {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  /**
   * Pods that may be down at once during voluntary disruptions. 1 always lets a node drain (one pod at a time),
   * whatever the replica count, where a minAvailable equal to the replica count would block it forever.
   */
  readonly maxUnavailable?: number;
}

/**
 * A PodDisruptionBudget that protects availability without ever blocking a node drain: maxUnavailable (never
 * minAvailable = replicas) and `unhealthyPodEvictionPolicy: AlwaysAllow`, so a crash-looping pod can't pin a node.
 */
export function createPdb(scope: Construct, id: string, opts: PdbOptions): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, id, {
    metadata: { name: opts.name, labels: opts.labels },
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(opts.maxUnavailable ?? 1),
      selector: { matchLabels: opts.selector },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}
