import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { NETWORK_POLICY } from './defaults';
import { ValidationError } from './errors';
import { checkObjectName } from './validate';

/**
 * The shared NetworkPolicy builder (issue 18): ingress only from the workload's own pods, its wired clients, the
 * ingress controller (when exposed through an Ingress) and metrics scrapers; egress optional. Constructs create one
 * with {@link createIngressPolicy} and grow it with {@link IngressPolicy.allowClient} when wiring connects a client.
 */

/** Pods a policy lets in: a namespace (by name), pod labels, or both (pods with those labels in that namespace). */
export interface NetworkPeerProps {
  /** Namespace name (matched on the `kubernetes.io/metadata.name` label Kubernetes sets). @default the policy's own namespace */
  readonly namespace?: string;
  /** Pod labels. @default every pod of the namespace (a namespace must then be given) */
  readonly podLabels?: Record<string, string>;
}

/** Egress restriction (off by default: clients of DNS, datastores and third-party APIs differ per cluster). */
export interface NetworkEgressProps {
  /** Destinations allowed besides DNS. @default none */
  readonly to?: readonly NetworkPeerProps[];
  /** Also allow any destination outside the cluster by IP block (0.0.0.0/0 minus nothing). @default false */
  readonly internet?: boolean;
}

/** NetworkPolicy settings of a workload. */
export interface NetworkPolicyProps {
  /**
   * Who may scrape the metrics port.
   * @default pods of the `monitoring` namespace (NETWORK_POLICY.metricsNamespace)
   */
  readonly metricsScrapers?: NetworkPeerProps;
  /**
   * The ingress controller, allowed when the workload has an Ingress.
   * @default pods of the `ingress-nginx` namespace (NETWORK_POLICY.ingressControllerNamespace)
   */
  readonly ingressController?: NetworkPeerProps;
  /** More clients allowed on every port, besides those wiring adds. @default none */
  readonly allowFrom?: readonly NetworkPeerProps[];
  /** Restrict egress too: DNS plus these destinations. @default egress unrestricted */
  readonly egress?: NetworkEgressProps;
}

/** A NetworkPolicy whose allowed clients grow as wiring connects them. */
export interface IngressPolicy {
  readonly policy: k8s.KubeNetworkPolicy;
  /** Lets pods matching `selector` (same namespace) reach the serving ports. */
  allowClient(selector: Record<string, string>): void;
  /**
   * The ingress controller's peer and its place in the first rule's `from` (present only with `exposedByIngress`):
   * what a chart adds or removes as its `ingress.enabled` value says. Undefined for a policy without serving ports.
   */
  readonly ingressController?: { readonly peer: k8s.NetworkPolicyPeer; readonly index: number };
}

export interface IngressPolicyOptions {
  readonly name: string;
  readonly labels: Record<string, string>;
  /** The workload's pods: what the policy applies to, and the members allowed to reach each other. */
  readonly selector: Record<string, string>;
  /** Ports clients call (names or numbers); none for a workload that serves nothing (it then denies all ingress). */
  readonly ports: ReadonlyArray<string | number>;
  /** Ports scrapers call. */
  readonly metricsPorts?: ReadonlyArray<string | number>;
  /** Whether an Ingress routes to the ports. */
  readonly exposedByIngress?: boolean;
  /** Whether the workload's own pods may call each other. @default true */
  readonly members?: boolean;
  /** Ports only the workload's own pods reach (a peer API such as Patroni's REST API). @default none */
  readonly memberPorts?: ReadonlyArray<string | number>;
  readonly props?: NetworkPolicyProps;
  /** Property path of `props`, for errors. */
  readonly property: string;
}

/** Resolves `boolean | NetworkPolicyProps` (on by default). */
export function networkPolicyEnabled(value: boolean | NetworkPolicyProps | undefined): NetworkPolicyProps | undefined {
  if (value === false) return undefined;
  return value === true || value === undefined ? {} : value;
}

export function createIngressPolicy(scope: Construct, id: string, opts: IngressPolicyOptions): IngressPolicy {
  const props = opts.props ?? {};
  const peer = (p: NetworkPeerProps, property: string): k8s.NetworkPolicyPeer => toPeer(scope, p, property);
  const tcp = networkPolicyPort;
  const fixed: k8s.NetworkPolicyPeer[] = [
    ...(opts.members ?? true ? [podSelectorPeer(opts.selector)] : []),
    ...(props.allowFrom ?? []).map((p, i) => peer(p, `${opts.property}.allowFrom[${i}]`)),
  ];
  // Checked even without an Ingress: a chart may turn one on (`ingress.enabled`) and then admits this peer.
  const controller = opts.ports.length > 0
    ? peer(props.ingressController ?? { namespace: NETWORK_POLICY.ingressControllerNamespace }, `${opts.property}.ingressController`)
    : undefined;
  const clients: k8s.NetworkPolicyPeer[] = [...fixed, ...(opts.exposedByIngress && controller ? [controller] : [])];
  const ingress: k8s.NetworkPolicyIngressRule[] = [];
  if (opts.ports.length > 0) ingress.push({ from: clients, ports: opts.ports.map(tcp) });
  if (opts.memberPorts?.length) ingress.push({ from: [{ podSelector: { matchLabels: { ...opts.selector } } }], ports: opts.memberPorts.map(tcp) });
  const metricsPorts = opts.metricsPorts ?? [];
  if (metricsPorts.length > 0) {
    ingress.push({
      from: [peer(props.metricsScrapers ?? { namespace: NETWORK_POLICY.metricsNamespace }, `${opts.property}.metricsScrapers`)],
      ports: metricsPorts.map(tcp),
    });
  }
  const egress = props.egress ? egressRules(scope, props.egress, opts.property) : undefined;
  const policy = new k8s.KubeNetworkPolicy(scope, id, {
    metadata: { name: opts.name, labels: opts.labels },
    spec: {
      podSelector: { matchLabels: { ...opts.selector } },
      policyTypes: egress ? ['Ingress', 'Egress'] : ['Ingress'],
      ingress,
      ...(egress ? { egress } : {}),
    },
  });
  const allowed = new Set<string>();
  return {
    policy,
    ...(controller ? { ingressController: { peer: controller, index: fixed.length } } : {}),
    allowClient(selector: Record<string, string>): void {
      const key = JSON.stringify(Object.entries(selector).sort());
      if (allowed.has(key) || opts.ports.length === 0) return;
      allowed.add(key);
      // The rule's peer list is read at synth: clients wired after construction are included.
      clients.push(podSelectorPeer(selector));
    },
  };
}

/** A TCP port of a policy rule, by number or container port name. */
export function networkPolicyPort(port: string | number): k8s.NetworkPolicyPort {
  return { protocol: 'TCP', port: typeof port === 'number' ? k8s.IntOrString.fromNumber(port) : k8s.IntOrString.fromString(port) };
}

/** Pods with these labels, in the policy's own namespace. */
export function podSelectorPeer(labels: Record<string, string>): k8s.NetworkPolicyPeer {
  return { podSelector: { matchLabels: { ...labels } } };
}

/** Pods of the namespace named `namespace` (by the `kubernetes.io/metadata.name` label), optionally only those with `podLabels`. */
export function namespaceSelectorPeer(namespace: string, podLabels?: Record<string, string>): k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    ...(podLabels ? { podSelector: { matchLabels: { ...podLabels } } } : {}),
  };
}

function egressRules(scope: Construct, egress: NetworkEgressProps, property: string): k8s.NetworkPolicyEgressRule[] {
  const dns: k8s.NetworkPolicyEgressRule = {
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
    ports: [53, 53].map((port, i) => ({ protocol: i === 0 ? 'UDP' : 'TCP', port: k8s.IntOrString.fromNumber(port) })),
  };
  const rules = [dns];
  const to = (egress.to ?? []).map((p, i) => toPeer(scope, p, `${property}.egress.to[${i}]`));
  if (to.length) rules.push({ to });
  if (egress.internet) rules.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] });
  return rules;
}

function toPeer(scope: Construct, p: NetworkPeerProps, property: string): k8s.NetworkPolicyPeer {
  if (typeof p !== 'object' || p === null || (p.namespace === undefined && p.podLabels === undefined)) {
    throw new ValidationError(scope, property, p, 'must name a namespace, pod labels, or both');
  }
  const podLabels = p.podLabels === undefined ? undefined : checkPeerLabels(scope, `${property}.podLabels`, p.podLabels);
  return p.namespace !== undefined
    ? namespaceSelectorPeer(checkObjectName(scope, `${property}.namespace`, p.namespace), podLabels)
    : podSelectorPeer(podLabels!);
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** A non-empty label selector (an empty one would admit every pod of the namespace); every key and value valid. */
export function checkPeerLabels(scope: Construct, property: string, labels: Record<string, string>): Record<string, string> {
  const entries = typeof labels === 'object' && labels !== null && !Array.isArray(labels) ? Object.entries(labels) : [];
  if (entries.length === 0) throw new ValidationError(scope, property, labels, 'must hold at least one label (an empty selector would admit every pod)');
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) throw new ValidationError(scope, `${property}.${key}`, key, 'must be a valid label key such as "app.kubernetes.io/name"');
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) throw new ValidationError(scope, `${property}.${key}`, value, 'must be a valid label value (at most 63 alphanumerics, "-", "_", ".")');
  }
  return { ...labels };
}
