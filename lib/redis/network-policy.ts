import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { RedisConnectionInfo } from '../connections';
import { REDIS } from '../defaults';
import { checkPeerLabels, namespaceSelectorPeer, networkPolicyPort, podSelectorPeer } from '../network-policy';

/** NetworkPolicies in front of a RedisHA (on by default). */
export interface RedisNetworkPolicyProps {
  /** Labels of further client pods allowed in, besides the workloads wired with connectRedis or a WorkerPool trigger. @default none */
  readonly clientLabels?: Record<string, string>;
  /**
   * Namespace of KEDA's operator, admitted once a WorkerPool scales on this Redis (it reads queue lengths through
   * the Sentinels and the master). Matched by the `kubernetes.io/metadata.name` label Kubernetes sets on namespaces.
   * @default `keda`
   */
  readonly kedaNamespace?: string;
}

/** What wiring code may ask of a RedisHA it only knows by its connection info. */
export interface RedisAccess {
  /** Admits pods matching `selector` (a wired client). */
  allowClient(selector: Record<string, string>): void;
  /** Admits KEDA's operator (a WorkerPool trigger scales on this Redis). */
  allowKeda(): void;
}

// Connection info is plain data that travels through triggers and wiring; the RedisHA that published it is found here.
const access = new WeakMap<RedisConnectionInfo, RedisAccess>();

export function registerRedisAccess(connection: RedisConnectionInfo, a: RedisAccess): void {
  access.set(connection, a);
}

/**
 * Lets the pods matching `selector` (and, with `keda`, KEDA's operator) through the NetworkPolicies of the RedisHA
 * that published `connection`. A no-op for connection info built by hand or with policies off.
 */
export function allowRedisClient(connection: RedisConnectionInfo, selector: Record<string, string>, opts: { keda?: boolean } = {}): void {
  const a = access.get(connection);
  if (!a) return;
  a.allowClient(selector);
  if (opts.keda) a.allowKeda();
}

interface PolicyInput {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly sentinelLabels?: Record<string, string>;
  readonly redisSelector: Record<string, string>;
  /** Undefined in mode standalone. */
  readonly sentinelSelector?: Record<string, string>;
  readonly metrics: boolean;
  readonly clientLabels?: Record<string, string>;
  readonly kedaNamespace: string;
}

/**
 * Ingress policies: Redis pods take the data port from each other (replication, the agents' votes), from the
 * Sentinels and from clients; Sentinels take their port from each other, from the Redis pods (agents, preStop) and
 * from clients. The exporter port is open to any pod (Prometheus runs in another namespace); it serves metrics only.
 * Returns the access the wiring uses to admit clients later (peers are read at synth time).
 */
export function createRedisNetworkPolicies(scope: Construct, p: PolicyInput): { policies: k8s.KubeNetworkPolicy[]; access: RedisAccess } {
  const tcp = networkPolicyPort;
  const members: k8s.NetworkPolicyPeer[] = [
    podSelectorPeer(p.redisSelector),
    ...(p.sentinelSelector ? [podSelectorPeer(p.sentinelSelector)] : []),
  ];
  const clients: k8s.NetworkPolicyPeer[] = p.clientLabels ? [podSelectorPeer(p.clientLabels)] : [];
  const seen = new Set<string>();
  const metricsRule = (): k8s.NetworkPolicyIngressRule[] => (p.metrics ? [{ ports: [tcp(REDIS.exporterPort)] }] : []);
  // Members are always there, so `from` is never empty (an empty `from` would admit everyone). Clients wired later
  // (connectRedis, WorkerPool triggers) are read when the chart is synthesized.
  const policy = (id: string, name: string, labels: Record<string, string>, selector: Record<string, string>, port: number) =>
    new k8s.KubeNetworkPolicy(scope, id, {
      metadata: { name, labels },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: Lazy.any({ produce: () => [{ from: [...members, ...clients], ports: [tcp(port)] }, ...metricsRule()] }),
      },
    });
  const policies = [policy('network-policy', p.name, p.labels, p.redisSelector, REDIS.port)];
  if (p.sentinelSelector) {
    policies.push(policy('sentinel-network-policy', `${p.name}-sentinel`, p.sentinelLabels ?? p.labels, p.sentinelSelector, REDIS.sentinelPort));
  }
  return {
    policies,
    access: {
      allowClient(selector) {
        const key = JSON.stringify(Object.entries(selector).sort());
        if (seen.has(key)) return;
        seen.add(key);
        clients.push(podSelectorPeer(selector));
      },
      allowKeda() {
        if (seen.has('keda')) return;
        seen.add('keda');
        clients.push(namespaceSelectorPeer(p.kedaNamespace));
      },
    },
  };
}

/** Client labels of a policy: at least one (an empty selector would admit every pod), each a valid label. */
export function checkClientLabels(scope: Construct, property: string, labels: Record<string, string>): Record<string, string> {
  return checkPeerLabels(scope, property, labels);
}
