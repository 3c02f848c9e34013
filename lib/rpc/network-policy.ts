import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { RPC } from '../defaults';
import { DNS1123_LABEL_RE } from '../core/rules';
import { ValidationError } from '../errors';
import { checkPeerLabels, namespaceSelectorPeer, networkPolicyPort, podSelectorPeer } from '../network-policy';

/** Who may reach the pool (issue 18: ingress only from wired clients and metrics scrapers). */
export interface RpcNetworkPolicyProps {
  /**
   * Labels of further client pods allowed to call the proxy, beside the workloads wired with `connectRpc` (always
   * allowed). @default none
   */
  readonly clientLabels?: Record<string, string>;
  /**
   * Namespace of the metrics scrapers (Prometheus), allowed on the exporter port when `monitoring` is on; matched by
   * its `kubernetes.io/metadata.name` label. @default `monitoring`
   */
  readonly metricsNamespace?: string;
  /** Labels of the scraper pods in that namespace. @default any pod of `metricsNamespace` */
  readonly metricsPodLabels?: Record<string, string>;
}

export interface ResolvedRpcNetworkPolicy {
  readonly clientLabels?: Record<string, string>;
  readonly metricsNamespace: string;
  readonly metricsPodLabels?: Record<string, string>;
}

/** `networkPolicy` prop: on by default; `false` opts out. */
export function resolveNetworkPolicy(scope: Construct, given: unknown): ResolvedRpcNetworkPolicy | undefined {
  if (given === false) return undefined;
  if (given === undefined || given === true) return { metricsNamespace: RPC.metricsNamespace };
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new ValidationError(scope, 'networkPolicy', given, 'must be true, false or { clientLabels, metricsNamespace, metricsPodLabels }');
  }
  const p = given as RpcNetworkPolicyProps;
  const metricsNamespace = p.metricsNamespace ?? RPC.metricsNamespace;
  if (typeof metricsNamespace !== 'string' || !DNS1123_LABEL_RE.test(metricsNamespace) || metricsNamespace.length > 63) {
    throw new ValidationError(scope, 'networkPolicy.metricsNamespace', metricsNamespace, 'must be a namespace name (DNS label)');
  }
  return {
    metricsNamespace,
    ...(p.clientLabels !== undefined ? { clientLabels: checkPeerLabels(scope, 'networkPolicy.clientLabels', p.clientLabels) } : {}),
    ...(p.metricsPodLabels !== undefined ? { metricsPodLabels: checkPeerLabels(scope, 'networkPolicy.metricsPodLabels', p.metricsPodLabels) } : {}),
  };
}

const tcp = networkPolicyPort;

/**
 * The proxy's ingress policy. Clients are added as they are wired ({@link RpcPoolNetworkPolicy.allowClient}); until
 * then no rule admits them, because a rule with an empty `from` would admit every pod.
 */
export class RpcPoolNetworkPolicy {
  public readonly policy: k8s.KubeNetworkPolicy;
  private readonly ingress: k8s.NetworkPolicyIngressRule[] = [];
  private readonly clients: k8s.NetworkPolicyPeer[] = [];
  private readonly proxyPort: number;

  constructor(scope: Construct, opts: {
    readonly name: string;
    readonly labels: Record<string, string>;
    readonly selector: Record<string, string>;
    readonly port: number;
    readonly metricsPort?: number;
    readonly settings: ResolvedRpcNetworkPolicy;
  }) {
    this.proxyPort = opts.port;
    if (opts.metricsPort !== undefined) {
      this.ingress.push({
        from: [namespaceSelectorPeer(opts.settings.metricsNamespace, opts.settings.metricsPodLabels)],
        ports: [tcp(opts.metricsPort)],
      });
    }
    if (opts.settings.clientLabels) this.allowClient(opts.settings.clientLabels);
    this.policy = new k8s.KubeNetworkPolicy(scope, 'network-policy', {
      metadata: { name: opts.name, labels: opts.labels },
      spec: { podSelector: { matchLabels: opts.selector }, policyTypes: ['Ingress'], ingress: this.ingress },
    });
  }

  /** Lets pods matching `selector` (same namespace) call the proxy. */
  public allowClient(selector: Record<string, string>): void {
    if (this.clients.length === 0) this.ingress.unshift({ from: this.clients, ports: [tcp(this.proxyPort)] });
    const key = JSON.stringify(selector);
    if (this.clients.some((c) => JSON.stringify(c.podSelector?.matchLabels) === key)) return;
    this.clients.push(podSelectorPeer(selector));
  }
}

/** The self-hosted node's policy: only the pool's proxy pods reach its JSON-RPC ports. */
export function nodeNetworkPolicy(scope: Construct, opts: {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  readonly proxySelector: Record<string, string>;
  readonly ports: readonly number[];
}): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, 'node-network-policy', {
    metadata: { name: opts.name, labels: opts.labels },
    spec: {
      podSelector: { matchLabels: opts.selector },
      policyTypes: ['Ingress'],
      ingress: [{ from: [podSelectorPeer(opts.proxySelector)], ports: opts.ports.map((port) => tcp(port)) }],
    },
  });
}
