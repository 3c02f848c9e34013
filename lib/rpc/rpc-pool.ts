import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { AutoscalingProps } from '../autoscaling';
import type { RpcConnectionInfo, SecretKeyRef } from '../connections';
import { RPC, STATELESS } from '../defaults';
import { createPdb } from '../disruption';
import { ValidationError } from '../errors';
import { imageVersion, selectorLabels, standardLabels } from '../labels';
import { AlertRule, createPrometheusRule } from '../monitoring';
import {
  DEFAULT_APP_USER, ResolvedResources, ResourceProps, TMP_MOUNT, TMP_VOLUME, containerSecurityContext,
  podSecurityContext, presetPlacement, resolveResources, toResourceRequirements, withRegistry,
} from '../pod';
import { Presets } from '../presets';
import { StatelessService } from '../stateless-service';
import { RpcNetworkPolicyProps, ResolvedRpcNetworkPolicy, RpcPoolNetworkPolicy, nodeNetworkPolicy, resolveNetworkPolicy } from './network-policy';
import { declareUpstreamsKnob } from './upstream-knob';
import { URL_FILES_DIR, checkEngine, checkWrites, mountUrlFiles, urlFileName } from './engine';
import { checkImage, checkInteger, checkObjectName, checkPort, checkResourceName, parseMemory } from '../validate';
import { withEphemeralStorage } from '../ephemeral-storage';
import { DatastorePodProps, applyDatastorePodProps } from '../datastore-pod';

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

/** Files the proxy container runs, shipped in this folder and mounted from a ConfigMap at {@link CONFIG_DIR}. */
export const RPC_PROXY_FILES = [
  'entrypoint.sh', 'nginx.conf.template', 'ws-location.conf.template', 'metrics-exporter.py',
  'nginx-http.conf.template', 'nginx-front.conf.template', 'njs-http.conf.template', 'njs-front.conf.template', 'rpc.js',
] as const;
const CONFIG_DIR = '/etc/rpc';
/** Where the exporter sidecar receives the proxy's access lines (UDP syslog on the pod's loopback). */
const METRICS_SYSLOG = '127.0.0.1:5514';
const NODE_UPSTREAM = 'self-hosted';
const MAX_UPSTREAMS = 16;

let proxyFiles: Record<string, string> | undefined;
function loadProxyFiles(): Record<string, string> {
  proxyFiles ??= Object.fromEntries(RPC_PROXY_FILES.map((f) => [f, readFileSync(join(__dirname, f), 'utf8')]));
  return proxyFiles;
}

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
  public readonly proxy: StatelessService;
  /** Templates and entrypoint; the name carries a hash of the content, so a change rolls the pods. */
  public readonly configMap: k8s.KubeConfigMap;
  /** The self-hosted node's objects, when `selfHostedNode` is given. */
  public readonly selfHostedNode?: SelfHostedNodeObjects;
  public readonly prometheusRule?: ApiObject;
  /** The proxy's ingress policy (`networkPolicy`, on by default). */
  public readonly networkPolicy?: k8s.KubeNetworkPolicy;
  private readonly policy?: RpcPoolNetworkPolicy;
  private readonly networkPolicySettings?: ResolvedRpcNetworkPolicy;

  constructor(scope: Construct, id: string, props: RpcPoolProps) {
    super(scope, id);
    const preset = Presets.of(this);
    this.name = checkResourceName(this, 'name', props.name ?? id, 47);
    const port = checkPort(this, 'port', props.port ?? RPC.port);
    // Checked here too, so errors name the pool; the proxy's StatelessService applies the same registry and layers.
    const engine = checkEngine(this, props.engine);
    const image = checkImage(this, 'image', withRegistry(props.image ?? (engine === 'njs' ? RPC.njsProxyImage : RPC.proxyImage), preset.imageRegistry));
    const resources = resolveResources(this, 'resources', props.resources, preset.resources, STATELESS);

    this.networkPolicySettings = resolveNetworkPolicy(this, props.networkPolicy);
    const env: Record<string, string> = {};
    // Secret-held URLs by env name; mounted as files below, not passed as env.
    const secretEnv: Record<string, SecretKeyRef> = {};
    const upstreams = resolveUpstreams(this, props, env, secretEnv, engine);
    let nodeWeight: number | undefined;
    if (props.selfHostedNode) {
      nodeWeight = checkInteger(this, 'selfHostedNode.weight', props.selfHostedNode.weight ?? RPC.selfHostedWeight, { min: 1, max: 100 });
      this.selfHostedNode = this.createNode(props.selfHostedNode, props.partOf);
    }
    const total = upstreams.length + (this.selfHostedNode ? 1 : 0);
    if (total < RPC.minUpstreams && !(props.allowSingleUpstream && total === 1)) {
      throw new ValidationError(this, 'upstreams', total, props.allowSingleUpstream
        ? 'needs at least 1 upstream'
        : 'needs at least 2 upstreams, counting selfHostedNode (seed 000: keep 2–3 RPC URLs); set allowSingleUpstream: true to run without failover');
    }
    if (this.selfHostedNode) {
      const nodeService = this.selfHostedNode.service.name;
      const node = props.selfHostedNode!;
      const i = upstreams.length + 1;
      env[`RPC_UPSTREAM_${i}_NAME`] = NODE_UPSTREAM;
      env[`RPC_UPSTREAM_${i}_URL`] = `http://${nodeService}:${node.httpPort ?? RPC.port}/`;
      env[`RPC_UPSTREAM_${i}_WEIGHT`] = String(nodeWeight);
      if (node.wsPort !== undefined) env[`RPC_UPSTREAM_${i}_WS_URL`] = `ws://${nodeService}:${node.wsPort}/`;
      upstreams.push({ name: NODE_UPSTREAM, weight: nodeWeight!, source: 'self-hosted', webSocket: node.wsPort !== undefined, writes: true });
    }
    this.upstreams = upstreams;

    const tunable = (property: keyof RpcPoolProps, fallback: number, min: number, max: number): number =>
      checkInteger(this, property, (props[property] as number | undefined) ?? fallback, { min, max });
    const connectTimeout = tunable('connectTimeoutSeconds', RPC.connectTimeoutSeconds, 1, 60);
    const readTimeout = tunable('readTimeoutSeconds', RPC.readTimeoutSeconds, 1, 600);
    const maxTries = tunable('maxTries', Math.min(RPC.maxTries, total), 1, total);
    const retryTimeout = tunable('retryTimeoutSeconds', RPC.retryTimeoutSeconds, 1, 3600);
    const maxFails = tunable('maxFails', RPC.maxFails, 1, 100);
    const failTimeout = tunable('failTimeoutSeconds', RPC.failTimeoutSeconds, 1, 3600);
    const maxBody = tunable('maxRequestBodyBytes', RPC.maxRequestBodyBytes, 1024, 100 * 1024 * 1024);
    const wsTimeout = tunable('wsIdleTimeoutSeconds', RPC.wsIdleTimeoutSeconds, 1, 86_400);
    const monitoring = resolveMonitoring(this, props.monitoring);
    if (engine === 'njs') {
      Object.assign(env, {
        RPC_MAX_LAG: String(tunable('maxBlockLag', RPC.maxBlockLag, 0, 100_000)),
        RPC_HEAD_POLL_INTERVAL: String(tunable('headPollIntervalSeconds', RPC.headPollIntervalSeconds, 1, 3600)),
        RPC_RATE_LIMIT_BACKOFF: String(tunable('rateLimitBackoffSeconds', RPC.rateLimitBackoffSeconds, 1, 3600)),
        RPC_MAX_RESPONSE: `${Math.ceil(tunable('maxResponseBytes', RPC.maxResponseBytes, 64 * 1024, 1024 * 1024 * 1024) / 1024)}k`,
        RPC_CONTROL_PORT: String(RPC.controlPort),
      });
      if (port === RPC.controlPort) {
        throw new ValidationError(this, 'port', port, `must differ from ${RPC.controlPort}, the njs engine's loopback control port`);
      }
      if (!upstreams.some((u) => u.writes)) {
        throw new ValidationError(this, 'upstreams', upstreams.map((u) => u.name), 'needs at least one upstream with writes: true, or eth_sendRawTransaction has nowhere to go');
      }
    } else {
      for (const property of ['maxBlockLag', 'headPollIntervalSeconds', 'rateLimitBackoffSeconds', 'maxResponseBytes'] as const) {
        if (props[property] !== undefined) throw new ValidationError(this, property, props[property], "needs engine: 'njs' (the nginx engine sees HTTP status only)");
      }
    }

    const files = loadProxyFiles();
    const hash = createHash('sha256').update(JSON.stringify(files)).digest('hex').slice(0, 8);
    const labels = standardLabels(this, { name: this.name, component: 'rpc-proxy', partOf: props.partOf }, preset.labels);
    this.configMap = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: `${this.name}-config-${hash}`, labels },
      data: files,
    });

    Object.assign(env, {
      RPC_LISTEN: String(port),
      RPC_RENDER_DIR: '/tmp/rpc',
      RPC_WORKER_CONNECTIONS: '4096',
      RPC_CONNECT_TIMEOUT: String(connectTimeout),
      RPC_READ_TIMEOUT: String(readTimeout),
      RPC_TRIES: String(maxTries),
      RPC_RETRY_TIMEOUT: String(retryTimeout),
      RPC_MAX_FAILS: String(maxFails),
      RPC_FAIL_TIMEOUT: String(failTimeout),
      RPC_MAX_BODY: `${Math.ceil(maxBody / 1024)}k`,
      RPC_WS_TIMEOUT: String(wsTimeout),
      RPC_UPSTREAM_COUNT: String(total),
      RPC_ENGINE: engine,
      // One nginx worker per whole core of the CPU limit: `worker_processes auto` would count the node's cores.
      RPC_WORKER_PROCESSES: String(Math.max(1, Math.ceil(resources.limitMillicores / 1000))),
      ...(monitoring ? { RPC_METRICS_SYSLOG: METRICS_SYSLOG } : {}),
    });

    if (monitoring && port === RPC.exporterPort) {
      // The exporter sidecar serves /metrics there; the proxy would otherwise be blamed for a metricsPort it was never given.
      throw new ValidationError(this, 'port', port, `must differ from ${RPC.exporterPort}, the port of the metrics exporter sidecar`);
    }
    this.proxy = new StatelessService(this, 'proxy', {
      name: this.name,
      partOf: props.partOf,
      component: 'rpc-proxy',
      image,
      port,
      servicePort: port,
      autoscaling: props.autoscaling,
      replicas: props.replicas,
      resources: props.resources,
      probes: { readinessPath: '/healthz', livenessPath: '/healthz', startupTimeoutSeconds: 30 },
      env: sortedEnv(env),
      configMounts: [{ configMap: this.configMap.name, mountPath: CONFIG_DIR }],
      command: ['/bin/sh', `${CONFIG_DIR}/entrypoint.sh`],
      runAsUser: RPC.proxyUser,
      // The pool's own policy (below) knows the proxy's and the exporter's ports; one policy per pod set.
      networkPolicy: false,
      ...(monitoring ? {
        metricsPort: RPC.exporterPort,
        sidecars: [this.exporterContainer(preset.imageRegistry, engine)],
        serviceMonitor: { interval: monitoring.interval },
      } : {}),
    });

    const hasWebSocket = this.upstreams.some((u) => u.webSocket);
    this.connection = {
      httpUrl: `http://${this.proxy.host}:${port}/`,
      ...(hasWebSocket ? { wsUrl: `ws://${this.proxy.host}:${port}/ws` } : {}),
    };

    // The proxy refused its props (recorded on it, reported by synth with every other error): nothing to build on.
    if (!this.proxy.deployment) return;
    mountUrlFiles(this.proxy.deployment, secretEnv);
    declareUpstreamsKnob(this, this.proxy.deployment, props.upstreams.map((u, i) => ({
      name: upstreams[i].name,
      weight: upstreams[i].weight,
      ...(u.url !== undefined ? { url: u.url } : {}),
      ...(u.urlSecret !== undefined ? { urlSecret: { secretName: u.urlSecret.secretName, key: u.urlSecret.key } } : {}),
      ...(u.wsUrl !== undefined ? { wsUrl: u.wsUrl } : {}),
      ...(u.wsUrlSecret !== undefined ? { wsUrlSecret: { secretName: u.wsUrlSecret.secretName, key: u.wsUrlSecret.key } } : {}),
    })));
    if (this.networkPolicySettings) {
      this.policy = new RpcPoolNetworkPolicy(this, {
        name: this.name, labels, selector: this.proxy.selector, port,
        metricsPort: monitoring ? RPC.exporterPort : undefined, settings: this.networkPolicySettings,
      });
      this.networkPolicy = this.policy.policy;
    }

    if (monitoring?.alerts) {
      this.prometheusRule = createPrometheusRule(this, 'alerts', {
        name: this.name, labels, groupName: `${this.name}.rpc`, rules: this.alertRules(monitoring, engine),
      });
    }
    applyDatastorePodProps(this, props);
  }

  private exporterContainer(registry: string | undefined, engine: RpcEngine): k8s.Container {
    const image = checkImage(this, 'exporter image', withRegistry(RPC.exporterImage, registry));
    return {
      name: 'metrics',
      image,
      imagePullPolicy: 'IfNotPresent',
      command: ['python3', `${CONFIG_DIR}/metrics-exporter.py`],
      env: [
        { name: 'RPC_METRICS_SYSLOG', value: METRICS_SYSLOG },
        { name: 'RPC_METRICS_LISTEN', value: `0.0.0.0:${RPC.exporterPort}` },
        // Head, lag and back-off gauges from the proxy's loopback control server.
        ...(engine === 'njs' ? [{ name: 'RPC_METRICS_STATE_URL', value: `http://127.0.0.1:${RPC.controlPort}/_rpc_state` }] : []),
        { name: 'PYTHONDONTWRITEBYTECODE', value: '1' },
        { name: 'PYTHONUNBUFFERED', value: '1' },
      ],
      ports: [{ name: 'metrics', containerPort: RPC.exporterPort, protocol: 'TCP' }],
      resources: toResourceRequirements(resolveResources(this, 'exporter resources', undefined, undefined, RPC.exporterResources)),
      securityContext: containerSecurityContext(true),
      // No readiness probe: a pod is ready only when all its containers are, and metrics must never take traffic away.
      livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 20, timeoutSeconds: 2 },
      // config-0 is the ConfigMap with the script, see StatelessServiceProps.sidecars.
      volumeMounts: [TMP_MOUNT, { name: 'config-0', mountPath: CONFIG_DIR, readOnly: true }],
    };
  }

  private alertRules(monitoring: ResolvedMonitoring, engine: RpcEngine): AlertRule[] {
    const namespace = Chart.of(this).namespace;
    const sel = `job="${this.name}"${namespace ? `,namespace="${namespace}"` : ''}`;
    const attempts = (extra: string): string => `rate(rpc_upstream_attempts_total{${sel},kind="http"${extra}}[5m])`;
    const rules: AlertRule[] = [
      {
        alert: 'RpcUpstreamErrors',
        expr: `sum by (upstream) (${attempts(',code=~"5..|429|rpc.*"')}) / sum by (upstream) (${attempts('')}) > ${monitoring.upstreamErrorRatio}`,
        for: '10m',
        severity: 'warning',
        summary: `RPC upstream {{ $labels.upstream }} of ${this.name} fails more than ${Math.round(monitoring.upstreamErrorRatio * 1000) / 10} % of attempts`,
        description: 'The pool fails over to the other upstreams meanwhile. code="rpc-32005" is a rate limit, other rpc codes JSON-RPC errors that mean the upstream failed. Check the provider status, quota and API key.',
      },
      {
        alert: 'RpcAllUpstreamsDown',
        expr: `(sum(${attempts(',code=~"2.."')}) or vector(0)) == 0 and sum(rate(rpc_requests_total{${sel},kind="http"}[5m])) > 0`,
        for: '2m',
        severity: 'critical',
        summary: `No upstream of RPC pool ${this.name} answers: clients get 502/504`,
      },
    ];
    const gas = monitoring.gasPrice;
    if (gas) {
      rules.push({
        alert: 'RpcGasPriceHigh',
        expr: `${gas.metric} > ${gas.factor} * avg_over_time(${gas.metric}[${gas.baselineWindow}])`,
        for: '15m',
        severity: 'warning',
        summary: `Gas price is above ${gas.factor}x its ${gas.baselineWindow} average`,
        description: 'Seed 000: bulk operations should retry with an EIP-1559 fee bump; defer what can wait.',
      });
    }
    if (engine === 'njs') {
      rules.push({
        alert: 'RpcUpstreamLagging',
        expr: `max by (upstream) (rpc_upstream_lagging{${sel}}) == 1`,
        for: '15m',
        severity: 'warning',
        summary: `RPC upstream {{ $labels.upstream }} of ${this.name} lags the best head by more than the allowed blocks`,
        description: 'It gets no traffic meanwhile (rpc_upstream_lag_blocks shows by how much). Check the provider or node sync status.',
      });
    }
    return rules;
  }

  private createNode(node: SelfHostedNodeProps, partOf: string | undefined): SelfHostedNodeObjects {
    const preset = Presets.of(this);
    const name = `${this.name}-node`;
    const image = checkImage(this, 'selfHostedNode.image', withRegistry(node.image, preset.imageRegistry));
    const httpPort = checkPort(this, 'selfHostedNode.httpPort', node.httpPort ?? RPC.port);
    const wsPort = node.wsPort === undefined ? undefined : checkPort(this, 'selfHostedNode.wsPort', node.wsPort);
    if (wsPort === httpPort) throw new ValidationError(this, 'selfHostedNode.wsPort', wsPort, 'must differ from httpPort');
    parseMemory(this, 'selfHostedNode.storage', node.storage);
    const dataPath = node.dataPath ?? '/data';
    if (!/^\/[A-Za-z0-9._/-]+$/.test(dataPath) || dataPath === '/tmp' || dataPath.includes('..')) {
      throw new ValidationError(this, 'selfHostedNode.dataPath', dataPath, 'must be an absolute directory other than "/" and "/tmp", without ".."');
    }
    const resources = requireResources(this, 'selfHostedNode.resources', node.resources);
    const runAsUser = checkInteger(this, 'selfHostedNode.runAsUser', node.runAsUser ?? DEFAULT_APP_USER, { min: 1 });
    const startup = checkInteger(this, 'selfHostedNode.startupTimeoutSeconds', node.startupTimeoutSeconds ?? 600, { min: 10, max: 86_400 });

    const component = 'rpc-node';
    const selector = selectorLabels(name, component);
    const labels = standardLabels(this, { name, component, partOf, version: imageVersion(image) }, preset.labels);
    const http = k8s.IntOrString.fromString('http');
    const ports: k8s.ContainerPort[] = [{ name: 'http', containerPort: httpPort, protocol: 'TCP' }];
    if (wsPort) ports.push({ name: 'ws', containerPort: wsPort, protocol: 'TCP' });

    const service = new k8s.KubeService(this, 'node-service', {
      metadata: { name, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: ports.map((p) => ({ name: p.name, port: p.containerPort, targetPort: k8s.IntOrString.fromString(p.name!), protocol: 'TCP' })),
      },
    });
    const podAnnotations = { ...preset.podAnnotations };
    const statefulSet = new k8s.KubeStatefulSet(this, 'node', {
      metadata: { name, labels },
      spec: {
        serviceName: name,
        // One pod: two nodes behind one Service could answer the same call from different block heights.
        replicas: 1,
        selector: { matchLabels: selector },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: { labels, ...(Object.keys(podAnnotations).length ? { annotations: podAnnotations } : {}) },
          spec: withEphemeralStorage({
            automountServiceAccountToken: false,
            securityContext: podSecurityContext({ runAsUser }),
            // Clients flush their database on shutdown; a kill mid-write can cost a long resync.
            terminationGracePeriodSeconds: 300,
            containers: [{
              name: 'node',
              image,
              imagePullPolicy: 'IfNotPresent',
              ...(node.command ? { command: [...node.command] } : {}),
              ...(node.args ? { args: [...node.args] } : {}),
              ports,
              resources: toResourceRequirements(resources),
              securityContext: containerSecurityContext(true),
              readinessProbe: node.readinessProbe ?? { tcpSocket: { port: http }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              livenessProbe: { tcpSocket: { port: http }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
              startupProbe: { tcpSocket: { port: http }, periodSeconds: 10, failureThreshold: Math.ceil(startup / 10) },
              volumeMounts: [{ name: 'data', mountPath: dataPath }, TMP_MOUNT],
            }],
            volumes: [TMP_VOLUME],
            ...presetPlacement(preset),
          }),
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(node.storageClassName ? { storageClassName: checkObjectName(this, 'selfHostedNode.storageClassName', node.storageClassName) } : {}),
            resources: { requests: { storage: k8s.Quantity.fromString(node.storage) } },
          },
        }],
      },
    });
    const pdb = createPdb(this, 'node-pdb', { name, labels, selector });
    const networkPolicy = this.networkPolicySettings
      ? nodeNetworkPolicy(this, { name, labels, selector, proxySelector: selectorLabels(this.name, 'rpc-proxy'), ports: ports.map((p) => p.containerPort) })
      : undefined;
    return { statefulSet, service, pdb, ...(networkPolicy ? { networkPolicy } : {}) };
  }

  /**
   * Lets pods matching `selector` call the proxy through its NetworkPolicy (a no-op when the policy is off).
   * `connectRpc` calls it for every wired workload.
   */
  public allowClient(selector: Record<string, string>): void {
    this.policy?.allowClient(selector);
  }
}

/** Characters the entrypoint accepts in a URL: nothing nginx would parse (quotes, `$`, braces, spaces, `#`). */
const URL_CHARS = /^[\]A-Za-z0-9._~:/?@!&()*+,;=%[-]+$/;
const HOST = /^(([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;
/** A path segment or host label that looks like an API key (Infura, Alchemy, QuickNode, Ankr use 32–64 characters). */
const KEY_LIKE_SEGMENT = /^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_-]{20,}$/;
const UPSTREAM_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

function resolveUpstreams(
  scope: Construct, props: RpcPoolProps, env: Record<string, string>, secretEnv: Record<string, SecretKeyRef>, engine: RpcEngine,
): ResolvedRpcUpstream[] {
  if (!Array.isArray(props.upstreams)) throw new ValidationError(scope, 'upstreams', props.upstreams, 'must be a list of upstreams');
  if (props.upstreams.length > MAX_UPSTREAMS) {
    throw new ValidationError(scope, 'upstreams', props.upstreams.length, `must hold at most ${MAX_UPSTREAMS} upstreams`);
  }
  const names = new Set<string>(props.selfHostedNode ? [NODE_UPSTREAM] : []);
  const sources = new Set<string>();
  return props.upstreams.map((u, index) => {
    const at = `upstreams[${index}]`;
    const i = index + 1;
    const name = u.name ?? `upstream-${i}`;
    if (!UPSTREAM_NAME.test(name)) throw new ValidationError(scope, `${at}.name`, name, 'must be 1–32 lower-case letters, digits and "-", starting and ending alphanumeric');
    if (names.has(name)) {
      throw new ValidationError(scope, `${at}.name`, name, name === NODE_UPSTREAM && props.selfHostedNode ? `is reserved for selfHostedNode` : 'must be unique in the pool');
    }
    names.add(name);
    const weight = checkInteger(scope, `${at}.weight`, u.weight ?? RPC.weight, { min: 1, max: 100 });
    env[`RPC_UPSTREAM_${i}_NAME`] = name;
    env[`RPC_UPSTREAM_${i}_WEIGHT`] = String(weight);

    const http = urlSource(scope, at, 'url', 'urlSecret', u.url, u.urlSecret, 'http', true);
    const ws = urlSource(scope, at, 'wsUrl', 'wsUrlSecret', u.wsUrl, u.wsUrlSecret, 'ws', false);
    for (const [suffix, source] of [['URL', http], ['WS_URL', ws]] as const) {
      if (!source) continue;
      if (sources.has(source.key)) throw new ValidationError(scope, `${at}.${source.property}`, source.shown, 'is already used by another upstream');
      sources.add(source.key);
      // Keyed URLs reach the proxy as files of a projected Secret volume, never as env values (issue 18).
      if (source.secret) {
        secretEnv[`RPC_UPSTREAM_${i}_${suffix}`] = source.secret;
        env[`RPC_UPSTREAM_${i}_${suffix}_FILE`] = `${URL_FILES_DIR}/${urlFileName(i, suffix)}`;
      }
      else env[`RPC_UPSTREAM_${i}_${suffix}`] = source.url!;
    }
    const writes = checkWrites(scope, `${at}.writes`, u.writes, engine);
    if (!writes) env[`RPC_UPSTREAM_${i}_WRITES`] = 'false';
    return { name, weight, source: http!.secret ? 'secret' : 'url', webSocket: ws !== undefined, writes };
  });
}

interface UrlSource {
  readonly property: string;
  readonly url?: string;
  readonly secret?: SecretKeyRef;
  /** Identity for duplicate checks. */
  readonly key: string;
  /** What an error message may show. */
  readonly shown: unknown;
}

function urlSource(
  scope: Construct, at: string, urlProp: string, secretProp: string, url: string | undefined,
  secret: SecretKeyRef | undefined, kind: 'http' | 'ws', required: boolean,
): UrlSource | undefined {
  if (url !== undefined && secret !== undefined) {
    throw new ValidationError(scope, `${at}.${urlProp}`, redact(url), `give either ${urlProp} or ${secretProp}, not both`);
  }
  if (secret !== undefined) {
    checkObjectName(scope, `${at}.${secretProp}.secretName`, secret.secretName);
    if (typeof secret.key !== 'string' || !SECRET_KEY.test(secret.key)) {
      throw new ValidationError(scope, `${at}.${secretProp}.key`, secret.key, "must be a Secret key: letters, digits, '-', '_' and '.'");
    }
    return { property: secretProp, secret: { secretName: secret.secretName, key: secret.key }, key: `secret:${secret.secretName}/${secret.key}`, shown: secret };
  }
  if (url === undefined) {
    if (required) throw new ValidationError(scope, `${at}.${urlProp}`, undefined, `is required: give ${urlProp}, or ${secretProp} when the URL holds an API key`);
    return undefined;
  }
  const parsed = checkPlainUrl(scope, `${at}.${urlProp}`, url, kind, secretProp);
  return { property: urlProp, url, key: parsed.href, shown: redact(url) };
}

/**
 * A URL given in plain sight: well-formed, the right scheme, and nothing that looks like a credential (those go
 * through a Secret). Error messages show the URL with anything key-like replaced by `<redacted>`.
 */
function checkPlainUrl(scope: Construct, property: string, value: string, kind: 'http' | 'ws', secretProp: string): URL {
  const schemes = kind === 'http' ? ['http:', 'https:'] : ['ws:', 'wss:'];
  const allowed = `must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL`;
  const useSecret = `: store the URL in a Secret and pass ${secretProp}`;
  if (typeof value !== 'string' || !URL_CHARS.test(value)) {
    throw new ValidationError(scope, property, typeof value === 'string' ? redact(value) : value, `${allowed} without spaces, quotes, '$', '#', '{' or '}'`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(scope, property, redact(value), `${allowed}; this one does not parse`);
  }
  if (!schemes.includes(url.protocol)) throw new ValidationError(scope, property, redact(value), allowed);
  if (!HOST.test(url.hostname)) throw new ValidationError(scope, property, redact(value), `${allowed} with a DNS name or IP address as host`);
  if (url.username || url.password) throw new ValidationError(scope, property, redact(value), `must not embed user:password${useSecret}`);
  if (url.search) throw new ValidationError(scope, property, redact(value), `must not carry a query string, where providers put API keys${useSecret}`);
  if (url.pathname.split('/').some((s) => KEY_LIKE_SEGMENT.test(s)) || url.hostname.split('.').some((s) => KEY_LIKE_SEGMENT.test(s))) {
    throw new ValidationError(scope, property, redact(value), `has a path segment or host label that looks like an API key${useSecret}`);
  }
  return url;
}

/** The URL with user:password, query and key-like path segments replaced, for error messages and logs. */
function redact(value: string): string {
  if (typeof value !== 'string') return value;
  try {
    const url = new URL(value);
    const hide = (s: string): string => (KEY_LIKE_SEGMENT.test(s) ? '<redacted>' : s);
    const path = url.pathname.split('/').map(hide).join('/');
    const host = url.hostname.split('.').map(hide).join('.') + (url.port ? `:${url.port}` : '');
    const auth = url.username || url.password ? '<redacted>@' : '';
    return `${url.protocol}//${auth}${host}${path}${url.search ? '?<redacted>' : ''}`;
  } catch {
    return '<unparsable URL, not shown>';
  }
}

interface ResolvedMonitoring {
  readonly interval?: string;
  readonly alerts: boolean;
  readonly upstreamErrorRatio: number;
  readonly gasPrice?: Required<GasPriceAlertProps>;
}

const PROM_SELECTOR = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^{}\n]*\})?$/;
const PROM_DURATION = /^[0-9]+(ms|s|m|h|d|w|y)$/;

function resolveMonitoring(scope: Construct, given: boolean | RpcMonitoringProps | undefined): ResolvedMonitoring | undefined {
  if (!given) return undefined;
  const m = given === true ? {} : given;
  if (m.interval !== undefined && !PROM_DURATION.test(m.interval)) {
    throw new ValidationError(scope, 'monitoring.interval', m.interval, 'must be a Prometheus duration such as "30s"');
  }
  const ratio = m.upstreamErrorRatio ?? RPC.upstreamErrorRatioAlert;
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio < 1)) {
    throw new ValidationError(scope, 'monitoring.upstreamErrorRatio', ratio, 'must be a number between 0 and 1 (exclusive)');
  }
  let gasPrice: Required<GasPriceAlertProps> | undefined;
  if (m.gasPrice) {
    const g = m.gasPrice;
    if (typeof g.metric !== 'string' || !PROM_SELECTOR.test(g.metric)) {
      throw new ValidationError(scope, 'monitoring.gasPrice.metric', g.metric, 'must be a metric name with optional label matchers, e.g. eth_gas_price_wei{chain="mainnet"}');
    }
    const factor = g.factor ?? RPC.gasPriceAlertFactor;
    if (typeof factor !== 'number' || !(factor > 1 && factor <= 100)) {
      throw new ValidationError(scope, 'monitoring.gasPrice.factor', factor, 'must be a number above 1 and at most 100');
    }
    const baselineWindow = g.baselineWindow ?? RPC.gasPriceBaselineWindow;
    if (!PROM_DURATION.test(baselineWindow)) {
      throw new ValidationError(scope, 'monitoring.gasPrice.baselineWindow', baselineWindow, 'must be a Prometheus duration such as "1d" or "12h"');
    }
    gasPrice = { metric: g.metric, factor, baselineWindow };
  }
  return { interval: m.interval, alerts: m.alerts ?? true, upstreamErrorRatio: ratio, gasPrice };
}

function requireResources(scope: Construct, property: string, given: ResourceProps | undefined): ResolvedResources {
  const r = { requests: { cpu: given?.requests?.cpu, memory: given?.requests?.memory }, limits: { cpu: given?.limits?.cpu, memory: given?.limits?.memory } };
  for (const kind of ['requests', 'limits'] as const) {
    for (const field of ['cpu', 'memory'] as const) {
      if (r[kind][field] === undefined) {
        throw new ValidationError(scope, `${property}.${kind}.${field}`, undefined, "is required: a node's size depends on its chain and client");
      }
    }
  }
  return resolveResources(scope, property, undefined, undefined, r as { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } });
}

/** Env in a stable order: upstreams by index, then the tunables by name. */
function sortedEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })));
}
export type { RpcNetworkPolicyProps } from './network-policy';
