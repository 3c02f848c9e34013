import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { SecretKeyRef } from '../connections';
import { Problems } from '../core/problems';
import { RPC, STATELESS } from '../defaults';
import { ValidationError } from '../errors';
import { imageVersion, selectorLabels, standardLabels } from '../labels';
import {
  DEFAULT_APP_USER, ResolvedResources, ResourceProps, TMP_MOUNT, containerSecurityContext, resolveResources, toResourceRequirements,
} from '../pod';
import type { Preset } from '../presets';
import type { StatelessServiceProps } from '../stateless-service';
import { checkInteger, checkObjectName, checkPort, checkResourceName, parseMemory } from '../validate';
import { resolveImage } from '../workloads/container';
import { resolveWorkloadResources } from '../workloads/scaling';
import { fallbackName, resolvePartOf, resolveStatelessService } from '../workloads/stateless-resolve';
import { checkEngine } from './engine';
import { ResolvedRpcNetworkPolicy, resolveNetworkPolicy } from './network-policy';
import type { GasPriceAlertProps, ResolvedRpcUpstream, RpcEngine, RpcMonitoringProps, RpcPoolProps, SelfHostedNodeProps } from './rpc-pool';
import { NODE_UPSTREAM, resolveUpstreams } from './upstreams';
import type { UpstreamValue } from './upstream-knob';

/** Files the proxy container runs, shipped in this folder and mounted from a ConfigMap at {@link CONFIG_DIR}. */
export const RPC_PROXY_FILES = [
  'entrypoint.sh', 'nginx.conf.template', 'ws-location.conf.template', 'metrics-exporter.py',
  'nginx-http.conf.template', 'nginx-front.conf.template', 'njs-http.conf.template', 'njs-front.conf.template', 'rpc.js',
] as const;
export const CONFIG_DIR = '/etc/rpc';
/** Where the exporter sidecar receives the proxy's access lines (UDP syslog on the pod's loopback). */
const METRICS_SYSLOG = '127.0.0.1:5514';

let proxyFiles: Record<string, string> | undefined;
export function loadProxyFiles(): Record<string, string> {
  proxyFiles ??= Object.fromEntries(RPC_PROXY_FILES.map((f) => [f, readFileSync(join(__dirname, f), 'utf8')]));
  return proxyFiles;
}

export interface ResolvedMonitoring {
  readonly interval?: string;
  readonly alerts: boolean;
  readonly upstreamErrorRatio: number;
  readonly gasPrice?: Required<GasPriceAlertProps>;
}

/** The self-hosted node after defaults and validation. */
export interface ResolvedRpcNode {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly httpPort: number;
  readonly wsPort?: number;
  readonly storage: string;
  readonly storageClassName?: string;
  readonly dataPath: string;
  readonly resources: ResolvedResources;
  readonly weight: number;
  readonly runAsUser: number;
  readonly readinessProbe?: k8s.Probe;
  readonly startupTimeoutSeconds: number;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
}

/** An RpcPool after defaults, preset and validation: everything rendering needs, nothing it must check. */
export interface ResolvedRpcPool {
  readonly name: string;
  readonly port: number;
  readonly engine: RpcEngine;
  readonly labels: Record<string, string>;
  readonly upstreams: readonly ResolvedRpcUpstream[];
  /** Secret-held URLs by env name, mounted as files (never env values). */
  readonly secretEnv: Record<string, SecretKeyRef>;
  /** The `upstreams` chart value's default. */
  readonly upstreamValues: readonly UpstreamValue[];
  readonly monitoring?: ResolvedMonitoring;
  readonly networkPolicy?: ResolvedRpcNetworkPolicy;
  readonly node?: ResolvedRpcNode;
  readonly configMapName: string;
  readonly files: Record<string, string>;
  /** The proxy's StatelessService props, complete: its own resolve step adds no default of ours. */
  readonly proxy: StatelessServiceProps;
}

/**
 * The resolve step of RpcPool: props + preset + defaults → a resolved spec, or every problem found (the proxy's
 * StatelessService props included, so its mistakes are reported on the pool's own properties).
 */
export function resolveRpcPool(
  scope: Construct, id: string, props: RpcPoolProps, preset: Preset,
): { spec: ResolvedRpcPool; errors: Problems['errors'] } {
  const p = new Problems(scope);
  const given: RpcPoolProps = props !== null && typeof props === 'object' ? props : ({ upstreams: [] } as RpcPoolProps);
  if (given !== props) p.add('props', props, 'must be an object of RpcPool props', true);

  const name = p.run(() => checkResourceName(scope, 'name', given.name ?? id, 47), fallbackName(given.name ?? id).slice(0, 47));
  const engine = p.run(() => checkEngine(scope, given.engine), RPC.engine as RpcEngine);
  let port = p.run(() => checkPort(scope, 'port', given.port ?? RPC.port), RPC.port);
  const image = resolveImage(p, 'image', given.image ?? (engine === 'njs' ? RPC.njsProxyImage : RPC.proxyImage), preset.imageRegistry);
  const resources = resolveWorkloadResources(p, given.resources, preset, STATELESS);
  const networkPolicy = p.run(() => resolveNetworkPolicy(scope, given.networkPolicy), undefined);
  const partOf = resolvePartOf(p, scope, given.partOf);

  const env: Record<string, string> = {};
  const secretEnv: Record<string, SecretKeyRef> = {};
  const upstreams = resolveUpstreams(p, scope, given, env, secretEnv, engine);
  const upstreamValues = Array.isArray(given.upstreams) ? upstreams.map((u, i) => {
    const g = given.upstreams[i] ?? {};
    return {
      name: u.name,
      weight: u.weight,
      ...(g.url !== undefined ? { url: g.url } : {}),
      ...(g.urlSecret !== undefined ? { urlSecret: { secretName: g.urlSecret.secretName, key: g.urlSecret.key } } : {}),
      ...(g.wsUrl !== undefined ? { wsUrl: g.wsUrl } : {}),
      ...(g.wsUrlSecret !== undefined ? { wsUrlSecret: { secretName: g.wsUrlSecret.secretName, key: g.wsUrlSecret.key } } : {}),
    };
  }) : [];
  const node = given.selfHostedNode === undefined ? undefined : resolveNode(p, scope, `${name}-node`, given.selfHostedNode, preset, partOf);
  const total = upstreams.length + (given.selfHostedNode !== undefined ? 1 : 0);
  if (Array.isArray(given.upstreams) && total < RPC.minUpstreams && !(given.allowSingleUpstream && total === 1)) {
    p.add('upstreams', total, given.allowSingleUpstream
      ? 'needs at least 1 upstream'
      : 'needs at least 2 upstreams, counting selfHostedNode (seed 000: keep 2–3 RPC URLs); set allowSingleUpstream: true to run without failover');
  }
  if (node) {
    const i = upstreams.length + 1;
    env[`RPC_UPSTREAM_${i}_NAME`] = NODE_UPSTREAM;
    env[`RPC_UPSTREAM_${i}_URL`] = `http://${node.name}:${node.httpPort}/`;
    env[`RPC_UPSTREAM_${i}_WEIGHT`] = String(node.weight);
    if (node.wsPort !== undefined) env[`RPC_UPSTREAM_${i}_WS_URL`] = `ws://${node.name}:${node.wsPort}/`;
    upstreams.push({ name: NODE_UPSTREAM, weight: node.weight, source: 'self-hosted', webSocket: node.wsPort !== undefined, writes: true });
  }

  const tunable = (property: keyof RpcPoolProps, fallback: number, min: number, max: number): number =>
    p.run(() => checkInteger(scope, property, (given[property] as number | undefined) ?? fallback, { min, max }), fallback);
  const connectTimeout = tunable('connectTimeoutSeconds', RPC.connectTimeoutSeconds, 1, 60);
  const readTimeout = tunable('readTimeoutSeconds', RPC.readTimeoutSeconds, 1, 600);
  const maxTries = tunable('maxTries', Math.min(RPC.maxTries, Math.max(1, total)), 1, Math.max(1, total));
  const retryTimeout = tunable('retryTimeoutSeconds', RPC.retryTimeoutSeconds, 1, 3600);
  const maxFails = tunable('maxFails', RPC.maxFails, 1, 100);
  const failTimeout = tunable('failTimeoutSeconds', RPC.failTimeoutSeconds, 1, 3600);
  const maxBody = tunable('maxRequestBodyBytes', RPC.maxRequestBodyBytes, 1024, 100 * 1024 * 1024);
  const wsTimeout = tunable('wsIdleTimeoutSeconds', RPC.wsIdleTimeoutSeconds, 1, 86_400);
  const monitoring = p.run(() => resolveMonitoring(scope, given.monitoring), undefined);
  if (engine === 'njs') {
    Object.assign(env, {
      RPC_MAX_LAG: String(tunable('maxBlockLag', RPC.maxBlockLag, 0, 100_000)),
      RPC_HEAD_POLL_INTERVAL: String(tunable('headPollIntervalSeconds', RPC.headPollIntervalSeconds, 1, 3600)),
      RPC_RATE_LIMIT_BACKOFF: String(tunable('rateLimitBackoffSeconds', RPC.rateLimitBackoffSeconds, 1, 3600)),
      RPC_MAX_RESPONSE: `${Math.ceil(tunable('maxResponseBytes', RPC.maxResponseBytes, 64 * 1024, 1024 * 1024 * 1024) / 1024)}k`,
      RPC_CONTROL_PORT: String(RPC.controlPort),
    });
    if (port === RPC.controlPort) {
      p.add('port', port, `must differ from ${RPC.controlPort}, the njs engine's loopback control port`);
      port = RPC.port;
    }
    if (upstreams.length > 0 && !upstreams.some((u) => u.writes)) {
      p.add('upstreams', upstreams.map((u) => u.name), 'needs at least one upstream with writes: true, or eth_sendRawTransaction has nowhere to go');
    }
  } else {
    for (const property of ['maxBlockLag', 'headPollIntervalSeconds', 'rateLimitBackoffSeconds', 'maxResponseBytes'] as const) {
      if (given[property] !== undefined) p.add(property, given[property], "needs engine: 'njs' (the nginx engine sees HTTP status only)");
    }
  }
  if (monitoring && port === RPC.exporterPort) {
    // The exporter sidecar serves /metrics there; the proxy would otherwise be blamed for a metricsPort it was never given.
    p.add('port', port, `must differ from ${RPC.exporterPort}, the port of the metrics exporter sidecar`);
    port = RPC.port;
  }

  const files = loadProxyFiles();
  const hash = createHash('sha256').update(JSON.stringify(files)).digest('hex').slice(0, 8);
  const configMapName = `${name}-config-${hash}`;
  const labels = p.run(() => standardLabels(scope, { name, component: 'rpc-proxy', partOf }, preset.labels), {});
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

  const exporterImage = monitoring ? resolveImage(p, 'exporter image', RPC.exporterImage, preset.imageRegistry) : undefined;
  const proxy: StatelessServiceProps = {
    name,
    partOf,
    component: 'rpc-proxy',
    image,
    port,
    servicePort: port,
    autoscaling: given.autoscaling,
    replicas: given.replicas,
    // Resolved above (call site over preset over defaults); passed whole, so the proxy adds no default of its own.
    resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
    probes: { readinessPath: '/healthz', livenessPath: '/healthz', startupTimeoutSeconds: 30 },
    env: sortedEnv(env),
    configMounts: [{ configMap: configMapName, mountPath: CONFIG_DIR }],
    command: ['/bin/sh', `${CONFIG_DIR}/entrypoint.sh`],
    runAsUser: RPC.proxyUser,
    // The pool's own policy knows the proxy's and the exporter's ports; one policy per pod set.
    networkPolicy: false,
    // Provider API keys stand behind the proxy: it serves in-cluster clients only, and a chart never exposes it.
    ingress: false,
    ...(monitoring && exporterImage ? {
      metricsPort: RPC.exporterPort,
      sidecars: [exporterContainer(scope, exporterImage, engine)],
      serviceMonitor: { interval: monitoring.interval },
    } : {}),
  };
  // The proxy's own rules (autoscaling, replicas, ...) judged now, on the pool's properties, with the others: every
  // value passed is either valid or a valid stand-in for a refused one (recorded above), so nothing is reported twice.
  p.errors.push(...resolveStatelessService(scope, name, proxy, preset).errors);

  return {
    spec: {
      name, port, engine, labels, upstreams, secretEnv, upstreamValues, monitoring, networkPolicy, node, configMapName, files, proxy,
    },
    errors: p.errors,
  };
}

function resolveNode(p: Problems, scope: Construct, name: string, node: SelfHostedNodeProps, preset: Preset, partOf: string): ResolvedRpcNode {
  const image = resolveImage(p, 'selfHostedNode.image', node.image, preset.imageRegistry);
  const httpPort = p.run(() => checkPort(scope, 'selfHostedNode.httpPort', node.httpPort ?? RPC.port), RPC.port);
  let wsPort = node.wsPort === undefined ? undefined : p.run(() => checkPort(scope, 'selfHostedNode.wsPort', node.wsPort!), undefined);
  if (wsPort !== undefined && wsPort === httpPort) {
    p.add('selfHostedNode.wsPort', wsPort, 'must differ from httpPort');
    wsPort = undefined;
  }
  const storage = p.run(() => { parseMemory(scope, 'selfHostedNode.storage', node.storage); return node.storage; }, '1Gi');
  const storageClassName = node.storageClassName === undefined ? undefined
    : p.run(() => checkObjectName(scope, 'selfHostedNode.storageClassName', node.storageClassName!), undefined);
  const dataPath = node.dataPath ?? '/data';
  if (typeof dataPath !== 'string' || !/^\/[A-Za-z0-9._/-]+$/.test(dataPath) || dataPath === '/tmp' || dataPath.includes('..')) {
    p.add('selfHostedNode.dataPath', dataPath, 'must be an absolute directory other than "/" and "/tmp", without ".."');
  }
  const resources = p.run(() => requireResources(scope, 'selfHostedNode.resources', node.resources), undefined);
  const weight = p.run(() => checkInteger(scope, 'selfHostedNode.weight', node.weight ?? RPC.selfHostedWeight, { min: 1, max: 100 }), RPC.selfHostedWeight);
  const runAsUser = p.run(() => checkInteger(scope, 'selfHostedNode.runAsUser', node.runAsUser ?? DEFAULT_APP_USER, { min: 1 }), DEFAULT_APP_USER);
  const startupTimeoutSeconds = p.run(() => checkInteger(scope, 'selfHostedNode.startupTimeoutSeconds', node.startupTimeoutSeconds ?? 600, { min: 10, max: 86_400 }), 600);
  const component = 'rpc-node';
  const labels = p.run(() => standardLabels(scope, { name, component, partOf, version: imageVersion(image) }, preset.labels), {});
  return {
    name, image, httpPort, storage, dataPath, weight, runAsUser, startupTimeoutSeconds, labels,
    selector: selectorLabels(name, component),
    resources: resources ?? resolveResources(scope, 'selfHostedNode.resources', undefined, undefined, STATELESS),
    ...(wsPort !== undefined ? { wsPort } : {}),
    ...(storageClassName ? { storageClassName } : {}),
    ...(node.command ? { command: [...node.command] } : {}),
    ...(node.args ? { args: [...node.args] } : {}),
    ...(node.readinessProbe ? { readinessProbe: node.readinessProbe } : {}),
  };
}

const PROM_SELECTOR = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^{}\n]*\})?$/;
const PROM_DURATION = /^[0-9]+(ms|s|m|h|d|w|y)$/;

export function resolveMonitoring(scope: Construct, given: boolean | RpcMonitoringProps | undefined): ResolvedMonitoring | undefined {
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

/** The metrics exporter sidecar: reads the proxy's access lines (syslog) and, with njs, its state; serves /metrics. */
function exporterContainer(scope: Construct, image: string, engine: RpcEngine): k8s.Container {
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
    resources: toResourceRequirements(resolveResources(scope, 'exporter resources', undefined, undefined, RPC.exporterResources)),
    securityContext: containerSecurityContext(true),
    // No readiness probe: a pod is ready only when all its containers are, and metrics must never take traffic away.
    livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 20, timeoutSeconds: 2 },
    // config-0 is the ConfigMap with the script, see StatelessServiceProps.sidecars.
    volumeMounts: [TMP_MOUNT, { name: 'config-0', mountPath: CONFIG_DIR, readOnly: true }],
  };
}
