import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { AutoscalingProps } from '../autoscaling';
import type { RpcConnectionInfo, SecretKeyRef } from '../connections';
import { recordErrors } from '../core/problems';
import { DatastorePodProps, applyDatastorePodProps } from '../datastore-pod';
import { selectorLabels } from '../labels';
import { createPrometheusRule } from '../monitoring';
import type { ResourceProps } from '../pod';
import { Presets } from '../presets';
import { StatelessService } from '../stateless-service';
import { rpcAlertRules } from './alerts';
import { mountUrlFiles } from './engine';
import { RpcNetworkPolicyProps, RpcPoolNetworkPolicy } from './network-policy';
import { renderRpcNode } from './node';
import { ResolvedRpcPool, resolveRpcPool } from './resolve';
import { declareUpstreamsKnob } from './upstream-knob';

export { RPC_PROXY_FILES } from './resolve';
export type { ResolvedRpcPool } from './resolve';

/** One JSON-RPC provider. Give its URL either in plain sight (`url`) or from a Secret (`urlSecret`). */
export interface RpcUpstreamProps {
  /** Name in logs, metrics and alerts: 1–32 of `[a-z0-9-]`. @default `upstream-<n>`, n counting from 1 */
  readonly name?: string;
  /**
   * JSON-RPC URL (`http://` or `https://`), written into the Deployment. Refused when it could carry a credential
   * (user:password, a query string, a key-like path segment): give such URLs through `urlSecret`.
   */
  readonly url?: string;
  /** Secret key holding the URL, for URLs that embed an API key, e.g. `https://eth-mainnet.g.alchemy.com/v2/<key>`. */
  readonly urlSecret?: SecretKeyRef;
  /** WebSocket URL (`ws://` or `wss://`) for subscriptions; same rules as `url`. @default no WebSocket here */
  readonly wsUrl?: string;
  /** Secret key holding the WebSocket URL. @default no WebSocket here */
  readonly wsUrlSecret?: SecretKeyRef;
  /** Round-robin weight, 1–100. @default 1 */
  readonly weight?: number;
  /**
   * May this upstream receive writes (`eth_sendRawTransaction` and the other send methods)? Set `false` for a
   * provider you only read from. Needs the `njs` engine. @default true
   */
  readonly writes?: boolean;
}

/** A blockchain node run in the cluster, preferred by the pool (seed 000: "Self-hosted node preferred for hot workloads"). */
export interface SelfHostedNodeProps {
  /** Client image, pinned by tag or digest, e.g. `ethereum/client-go:v1.14.12`. */
  readonly image: string;
  /** @default the image's entrypoint */
  readonly command?: readonly string[];
  /**
   * Client args. They must serve JSON-RPC over HTTP on `httpPort` on all interfaces (geth:
   * `--http --http.addr=0.0.0.0 --http.vhosts=*`) and keep chain data under `dataPath`.
   * @default the image's
   */
  readonly args?: readonly string[];
  /** @default 8545 */
  readonly httpPort?: number;
  /** Port of the client's WebSocket server; the pool uses it for subscriptions. @default no WebSocket */
  readonly wsPort?: number;
  /** Size of the persistent volume, e.g. `2Ti`. */
  readonly storage: string;
  /** @default the cluster's default StorageClass */
  readonly storageClassName?: string;
  /** Where the volume is mounted. @default `/data` */
  readonly dataPath?: string;
  /** Requests and limits, all four required: a node's size depends on its chain and client. */
  readonly resources: ResourceProps;
  /** Round-robin weight against the providers' (1 by default), 1–100. @default 5 */
  readonly weight?: number;
  /** @default 65532 */
  readonly runAsUser?: number;
  /**
   * Readiness probe. While the node is unready the pool skips it; give one that fails while the node syncs, so
   * clients never read stale blocks from it.
   * @default TCP check on the HTTP port
   */
  readonly readinessProbe?: k8s.Probe;
  /** Seconds the client may take to start before liveness applies. @default 600 */
  readonly startupTimeoutSeconds?: number;
}

/** Gas price alert (seed 000: "monitor eth_gasPrice; alert if > 2x baseline"). */
export interface GasPriceAlertProps {
  /** PromQL selector of your exporter's gas price gauge, e.g. `eth_gas_price_wei{chain="mainnet"}`. */
  readonly metric: string;
  /** Alert when the price exceeds this multiple of its baseline. @default 2 (seed 000) */
  readonly factor?: number;
  /** Baseline: the price's average over this window (PromQL duration). @default `1d` */
  readonly baselineWindow?: string;
}

/** Metrics and alerts. */
export interface RpcMonitoringProps {
  /** Scrape interval. @default `30s` */
  readonly interval?: string;
  /** Create the PrometheusRule (upstream errors, all upstreams down, gas price). @default true */
  readonly alerts?: boolean;
  /** Share of one upstream's attempts that may fail over 5 minutes before alerting. @default 0.1 */
  readonly upstreamErrorRatio?: number;
  /** @default no gas price alert */
  readonly gasPrice?: GasPriceAlertProps;
}

export interface RpcPoolProps extends DatastorePodProps {
  /** The providers. Seed 000 keeps 2–3; fewer than 2 (counting `selfHostedNode`) needs `allowSingleUpstream`. */
  readonly upstreams: readonly RpcUpstreamProps[];
  /** Accept a single upstream, i.e. no failover. @default false */
  readonly allowSingleUpstream?: boolean;
  /** A node run in the cluster, added to the pool with a higher weight. @default none */
  readonly selfHostedNode?: SelfHostedNodeProps;
  /** Name of the proxy's Deployment and Service; the node gets `<name>-node`. @default the construct id */
  readonly name?: string;
  /** `app.kubernetes.io/part-of`. @default the enclosing Chart's id */
  readonly partOf?: string;
  /**
   * The proxy's logic. `njs` (default): rpc.js in nginx judges each answer by HTTP status and JSON-RPC error, skips
   * upstreams whose head lags, backs off rate-limited ones, and never sends a write twice. `nginx`: HTTP status only.
   * @default `njs`
   */
  readonly engine?: RpcEngine;
  /**
   * Proxy image: an unprivileged nginx with a POSIX shell (engine `njs`: with the njs module, which the official
   * images carry; ≥ 1.27.3 re-resolves provider names at run time).
   * @default `nginxinc/nginx-unprivileged:1.26.3-alpine` (engine `njs`), `nginxinc/nginx-unprivileged:1.28.0-alpine` (engine `nginx`)
   */
  readonly image?: string;
  /** Engine `njs`: blocks an upstream's head may trail the best upstream's before it gets no traffic, until it catches up. @default 10 */
  readonly maxBlockLag?: number;
  /** Engine `njs`: seconds between `eth_blockNumber` polls of every upstream (each pod polls). @default 5 */
  readonly headPollIntervalSeconds?: number;
  /** Engine `njs`: seconds a rate-limited upstream (JSON-RPC -32005, HTTP 429) is skipped. @default 10 */
  readonly rateLimitBackoffSeconds?: number;
  /** Engine `njs`: largest upstream answer read; a larger one fails that attempt. @default 16 MiB */
  readonly maxResponseBytes?: number;
  /** Port of the proxy and its Service. @default 8545 */
  readonly port?: number;
  /** HPA settings, or `false` for a fixed count. @default minReplicas 3, maxReplicas 20, CPU 60 %, memory 75 % (seeds 000, 002) */
  readonly autoscaling?: AutoscalingProps | false;
  /** Replica count when `autoscaling` is `false`. @default 3 (seeds 000, 002) */
  readonly replicas?: number;
  /** Proxy container resources; nginx workers = the CPU limit in whole cores. @default requests 500m / 256Mi, limits 2000m / 1Gi (seed 002) */
  readonly resources?: ResourceProps;
  /** Seconds to connect to an upstream, per attempt. @default 2 */
  readonly connectTimeoutSeconds?: number;
  /** Seconds an upstream may stay silent while answering, per attempt. @default 10 */
  readonly readTimeoutSeconds?: number;
  /** Attempts per request, the first included (1 to the number of upstreams). @default min(3, upstreams) */
  readonly maxTries?: number;
  /** Seconds after the first attempt during which a retry may start. @default 15 */
  readonly retryTimeoutSeconds?: number;
  /** Failed attempts within `failTimeoutSeconds` that take an upstream out for `failTimeoutSeconds`. @default 2 */
  readonly maxFails?: number;
  /** @default 15 */
  readonly failTimeoutSeconds?: number;
  /** Largest request body. @default 2 MiB (a blob transaction with 6 blobs, hex-encoded) */
  readonly maxRequestBodyBytes?: number;
  /** Seconds a WebSocket connection may stay idle. @default 3600 */
  readonly wsIdleTimeoutSeconds?: number;
  /** Metrics exporter sidecar, ServiceMonitor and PrometheusRule (need the Prometheus Operator CRDs). @default false */
  readonly monitoring?: boolean | RpcMonitoringProps;
  /**
   * Ingress NetworkPolicy of the proxy (and of the self-hosted node: only the proxy reaches it). Clients wired with
   * `connectRpc` are allowed on the proxy port; metrics scrapers from `metricsNamespace` on the exporter port;
   * nothing else. `false` opts out.
   * @default true, scrapers from namespace `monitoring`
   */
  readonly networkPolicy?: boolean | RpcNetworkPolicyProps;
}

/** Objects of the self-hosted node. */
export interface SelfHostedNodeObjects {
  readonly statefulSet: k8s.KubeStatefulSet;
  readonly service: k8s.KubeService;
  readonly pdb: k8s.KubePodDisruptionBudget;
  /** Only the proxy reaches the node (when `networkPolicy` is on). */
  readonly networkPolicy?: k8s.KubeNetworkPolicy;
}

/** An upstream after validation. */
export interface ResolvedRpcUpstream {
  readonly name: string;
  readonly weight: number;
  /** Where its URL comes from. */
  readonly source: 'url' | 'secret' | 'self-hosted';
  readonly webSocket: boolean;
  /** Receives writes (`eth_sendRawTransaction` & co). */
  readonly writes: boolean;
}

/** The proxy's logic: JSON-RPC-aware (`njs`) or HTTP status only (`nginx`). */
export type RpcEngine = 'njs' | 'nginx';

/**
 * A pool of blockchain JSON-RPC upstreams behind one in-cluster endpoint (seed 000, "Blockchain RPC"): weighted
 * round-robin, failover on connection errors, timeouts, HTTP 5xx and 429 (POST included), passive health, TLS with
 * per-provider SNI, WebSocket subscriptions, and an optional self-hosted node preferred by weight.
 *
 * The proxy is nginx, run by {@link StatelessService} (Deployment, Service, HPA, PDB). Its config is rendered when
 * the container starts, from templates in a ConfigMap and the upstream URLs in env vars, so URLs holding API keys
 * come from a Secret and never appear in the ConfigMap.
 */
export class RpcPool extends Construct {
  public readonly name: string;
  /** In-cluster endpoints, for the workloads that call the chain. */
  public readonly connection: RpcConnectionInfo;
  public readonly upstreams: readonly ResolvedRpcUpstream[];
  /** The nginx proxy: Deployment, Service, HPA, PDB (and ServiceMonitor). */
  public readonly proxy!: StatelessService;
  /** Templates and entrypoint; the name carries a hash of the content, so a change rolls the pods. */
  public readonly configMap!: k8s.KubeConfigMap;
  /** The self-hosted node's objects, when `selfHostedNode` is given. */
  public readonly selfHostedNode?: SelfHostedNodeObjects;
  public readonly prometheusRule?: ApiObject;
  /** The proxy's ingress policy (`networkPolicy`, on by default). */
  public readonly networkPolicy?: k8s.KubeNetworkPolicy;
  private policy?: RpcPoolNetworkPolicy;

  constructor(scope: Construct, id: string, props: RpcPoolProps) {
    super(scope, id);
    // One resolve step (props + preset + defaults, every problem found, the proxy's included), then rendering.
    const preset = Presets.of(this);
    const { spec, errors } = resolveRpcPool(this, id, props, preset);
    this.name = spec.name;
    this.upstreams = spec.upstreams;
    const hasWebSocket = spec.upstreams.some((u) => u.webSocket);
    // The proxy's Service carries the pool's name.
    this.connection = {
      httpUrl: `http://${spec.name}:${spec.port}/`,
      ...(hasWebSocket ? { wsUrl: `ws://${spec.name}:${spec.port}/ws` } : {}),
    };
    if (errors.length > 0) {
      // Reported by `cdk8s synth` with every other construct's errors; nothing is rendered from a refused spec.
      recordErrors(this, errors);
      return;
    }
    this.render(spec, preset);
    applyDatastorePodProps(this, props);
  }

  /**
   * Lets pods matching `selector` call the proxy through its NetworkPolicy (a no-op when the policy is off).
   * `connectRpc` calls it for every wired workload.
   */
  public allowClient(selector: Record<string, string>): void {
    this.policy?.allowClient(selector);
  }

  private render(spec: ResolvedRpcPool, preset: ReturnType<typeof Presets.of>): void {
    const self = this as { -readonly [K in keyof RpcPool]: RpcPool[K] };
    if (spec.node) {
      self.selfHostedNode = renderRpcNode(this, spec.node, preset,
        spec.networkPolicy ? { proxySelector: selectorLabels(spec.name, 'rpc-proxy') } : undefined);
    }
    self.configMap = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: spec.configMapName, labels: spec.labels },
      data: spec.files,
    });
    self.proxy = new StatelessService(this, 'proxy', spec.proxy);
    // Resolved with the pool's props already; a refusal here is recorded on the proxy and reported by synth.
    if (!this.proxy.deployment) return;
    mountUrlFiles(this.proxy.deployment, spec.secretEnv);
    declareUpstreamsKnob(this, this.proxy.deployment, spec.upstreamValues);
    if (spec.networkPolicy) {
      this.policy = new RpcPoolNetworkPolicy(this, {
        name: spec.name, labels: spec.labels, selector: this.proxy.selector, port: spec.port,
        metricsPort: spec.proxy.metricsPort, settings: spec.networkPolicy,
      });
      self.networkPolicy = this.policy.policy;
    }
    if (spec.monitoring?.alerts) {
      self.prometheusRule = createPrometheusRule(this, 'alerts', {
        name: spec.name, labels: spec.labels, groupName: `${spec.name}.rpc`,
        rules: rpcAlertRules(spec.name, Chart.of(this).namespace, spec.monitoring, spec.engine),
      });
    }
  }
}
