import { readFileSync } from 'fs';
import { join } from 'path';
import { Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { describe, expect, it } from 'vitest';
import { ValidationErrors, connectRpc, containerSecurityContext, Knobs, Presets, RPC, RPC_PROXY_FILES, RpcPool, RpcPoolProps, SelfHostedNodeProps, StatelessService } from '../lib';
import { throwIfInvalid, validateAll } from '../lib/core/problems';
import { expectValidationError } from './harness/errors';
import { chain } from '../examples/chain';
import { K8sObject, build, container, find, findAll, synth, synthApp } from './harness/synth';

const UPSTREAMS: RpcPoolProps['upstreams'] = [
  { name: 'alchemy', urlSecret: { secretName: 'rpc-urls', key: 'alchemy' }, wsUrlSecret: { secretName: 'rpc-urls', key: 'alchemy-ws' } },
  { name: 'publicnode', url: 'https://ethereum-rpc.publicnode.com', wsUrl: 'wss://ethereum-rpc.publicnode.com' },
  { name: 'ankr', urlSecret: { secretName: 'rpc-urls', key: 'ankr' }, weight: 2 },
];
const NODE: SelfHostedNodeProps = {
  image: 'ethereum/client-go:v1.14.12',
  args: ['--http', '--http.addr=0.0.0.0', '--http.vhosts=*', '--ws', '--ws.addr=0.0.0.0', '--datadir=/data'],
  storage: '2Ti',
  wsPort: 8546,
  resources: { requests: { cpu: '4', memory: '16Gi' }, limits: { cpu: '8', memory: '32Gi' } },
};
const KEY = '0123456789abcdef0123456789abcdef';

function pool(props: Partial<RpcPoolProps> = {}): K8sObject[] {
  return synth((chart) => new RpcPool(chart, 'rpc', { upstreams: UPSTREAMS, ...props }), { namespace: 'chain' });
}

function envOf(c: K8sObject): Record<string, K8sObject> {
  return Object.fromEntries((c.env as K8sObject[]).map((e) => [e.name, e]));
}

function invalid(props: Partial<RpcPoolProps>, property: string, allowed: RegExp, value?: unknown): Error {
  return expectValidationError(() => build((chart) => new RpcPool(chart, 'rpc', { upstreams: UPSTREAMS, ...props })),
    { path: 'test/rpc', property, allowed, ...(value !== undefined ? { value } : {}) });
}

describe('RpcPool defaults', () => {
  const objects = pool();
  const deployment = find(objects, 'Deployment', 'rpc');
  const proxy = container(deployment, 'app');
  const env = envOf(proxy);

  it('emits the proxy as a StatelessService (Deployment, Service, HPA, PDB) plus its ConfigMap and NetworkPolicy', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service']);
    const hpa = find(objects, 'HorizontalPodAutoscaler');
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 20]);
    expect(find(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toHaveLength(2);
  });

  it('runs the pinned unprivileged nginx as uid 101 through the entrypoint, hardened', () => {
    expect(proxy.image).toBe(RPC.njsProxyImage);
    expect(proxy.image).toMatch(/^nginxinc\/nginx-unprivileged:\d+\.\d+\.\d+-alpine$/);
    expect(proxy.command).toEqual(['/bin/sh', '/etc/rpc/entrypoint.sh']);
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 101, runAsGroup: 101 });
    expect(proxy.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(proxy.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(env.RPC_RENDER_DIR.value).toBe('/tmp/rpc');
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it('probes /healthz and serves JSON-RPC on 8545', () => {
    expect(proxy.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(proxy.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(proxy.ports).toEqual([{ name: 'http', containerPort: 8545, protocol: 'TCP' }]);
    expect(find(objects, 'Service').spec.ports).toEqual([{ name: 'http', port: 8545, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('ships the lib/rpc files unchanged in a ConfigMap named after their hash, mounted read-only', () => {
    const configMap = find(objects, 'ConfigMap');
    expect(configMap.metadata.name).toMatch(/^rpc-config-[0-9a-f]{8}$/);
    for (const file of RPC_PROXY_FILES) expect(configMap.data[file]).toBe(readFileSync(join(__dirname, '..', 'lib', 'rpc', file), 'utf8'));
    const volume = deployment.spec.template.spec.volumes.find((v: K8sObject) => v.configMap);
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    expect(proxy.volumeMounts).toContainEqual({ name: volume.name, mountPath: '/etc/rpc', readOnly: true });
  });

  it('passes each upstream as env: names, weights, plain URLs as values; Secret URLs only as mounted files', () => {
    expect(env.RPC_UPSTREAM_COUNT.value).toBe('3');
    expect([1, 2, 3].map((i) => [env[`RPC_UPSTREAM_${i}_NAME`].value, env[`RPC_UPSTREAM_${i}_WEIGHT`].value])).toEqual([['alchemy', '1'], ['publicnode', '1'], ['ankr', '2']]);
    // Issue 18: keyed URLs never become env values, not even Secret references; they are files of a projected volume.
    expect(env.RPC_UPSTREAM_1_URL).toBeUndefined();
    expect(env.RPC_UPSTREAM_1_URL_FILE.value).toBe('/etc/rpc-urls/upstream-1-http');
    expect(env.RPC_UPSTREAM_1_WS_URL_FILE.value).toBe('/etc/rpc-urls/upstream-1-ws');
    expect(proxy.env.filter((e: K8sObject) => e.valueFrom)).toEqual([]);
    const urls = deployment.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'rpc-urls');
    expect(urls.projected).toEqual({
      defaultMode: 0o440,
      sources: [
        { secret: { name: 'rpc-urls', items: [{ key: 'alchemy', path: 'upstream-1-http' }] } },
        { secret: { name: 'rpc-urls', items: [{ key: 'alchemy-ws', path: 'upstream-1-ws' }] } },
        { secret: { name: 'rpc-urls', items: [{ key: 'ankr', path: 'upstream-3-http' }] } },
      ],
    });
    expect(proxy.volumeMounts).toContainEqual({ name: 'rpc-urls', mountPath: '/etc/rpc-urls', readOnly: true });
    // The pod's fsGroup (the nginx user's group) may read them; 0440 keeps everyone else out.
    expect(deployment.spec.template.spec.securityContext.fsGroup).toBe(101);
    expect(env.RPC_UPSTREAM_2_URL.value).toBe('https://ethereum-rpc.publicnode.com');
    expect(env.RPC_UPSTREAM_2_WS_URL.value).toBe('wss://ethereum-rpc.publicnode.com');
    expect(env.RPC_UPSTREAM_3_WS_URL).toBeUndefined();
  });

  it('sets the documented failover settings: 3 tries, 2 s connect, 10 s read, 15 s retry window, 2 fails per 15 s', () => {
    const values = Object.fromEntries(Object.entries(env).filter(([, e]) => e.value !== undefined).map(([k, e]) => [k, e.value]));
    expect(values).toMatchObject({
      RPC_LISTEN: '8545', RPC_TRIES: '3', RPC_CONNECT_TIMEOUT: '2', RPC_READ_TIMEOUT: '10', RPC_RETRY_TIMEOUT: '15',
      RPC_MAX_FAILS: '2', RPC_FAIL_TIMEOUT: '15', RPC_MAX_BODY: '2048k', RPC_WS_TIMEOUT: '3600',
      // One worker per whole core of the 2000m limit.
      RPC_WORKER_PROCESSES: '2',
    });
  });

  it('publishes in-cluster HTTP and WebSocket URLs', () => {
    let p: RpcPool | undefined;
    synth((chart) => { p = new RpcPool(chart, 'chain-rpc', { upstreams: UPSTREAMS }); });
    expect(p!.connection).toEqual({ httpUrl: 'http://chain-rpc:8545/', wsUrl: 'ws://chain-rpc:8545/ws' });
    expect(p!.upstreams.map((u) => [u.name, u.source, u.webSocket])).toEqual([['alchemy', 'secret', true], ['publicnode', 'url', true], ['ankr', 'secret', false]]);
  });

  it('has no WebSocket URL when no upstream has one', () => {
    let p: RpcPool | undefined;
    synth((chart) => { p = new RpcPool(chart, 'rpc', { upstreams: [{ url: 'http://a.example:8545' }, { url: 'http://b.example:8545' }] }); });
    expect(p!.connection).toEqual({ httpUrl: 'http://rpc:8545/' });
  });

  it('declares Helm knobs for the image tag, autoscaling and resources on its proxy', () => {
    let p: RpcPool | undefined;
    synth((chart) => { p = new RpcPool(chart, 'rpc', { upstreams: UPSTREAMS }); });
    const keys = Knobs.of(p!.proxy).map((k) => k.key);
    expect(keys).toEqual(expect.arrayContaining(['image.tag', 'autoscaling.minReplicas', 'autoscaling.maxReplicas', 'resources.limits.cpu', 'resources.requests.memory']));
    expect(Knobs.of(p!.proxy).find((k) => k.key === 'image.tag')!.default).toBe('1.26.3-alpine');
  });
});

describe('RpcPool options', () => {
  it('caps tries at the number of upstreams', () => {
    const objects = pool({ upstreams: UPSTREAMS.slice(0, 2) });
    expect(envOf(container(find(objects, 'Deployment'))).RPC_TRIES.value).toBe('2');
  });

  it('derives nginx workers from the CPU limit and honours a fixed replica count', () => {
    const objects = pool({ resources: { limits: { cpu: '3500m' } }, autoscaling: false, replicas: 2 });
    const deployment = find(objects, 'Deployment');
    expect(envOf(container(deployment)).RPC_WORKER_PROCESSES.value).toBe('4');
    expect(deployment.spec.replicas).toBe(2);
    expect(findAll(objects, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  it('takes its registry and resources from a preset', () => {
    const objects = synth((chart) => {
      Presets.apply(chart, { imageRegistry: 'registry.example.com/mirror', resources: { requests: { cpu: '250m' } } });
      new RpcPool(chart, 'rpc', { upstreams: UPSTREAMS, monitoring: true });
    });
    const deployment = find(objects, 'Deployment');
    expect(container(deployment, 'app').image).toBe(`registry.example.com/mirror/${RPC.njsProxyImage}`);
    expect(container(deployment, 'app').resources.requests.cpu).toBe('250m');
    expect(container(deployment, 'metrics').image).toBe(`registry.example.com/mirror/${RPC.exporterImage}`);
  });

  it('adds a self-hosted node: StatefulSet with a volume, its Service and PDB, preferred with weight 5', () => {
    let p: RpcPool | undefined;
    const objects = synth((chart) => { p = new RpcPool(chart, 'rpc', { upstreams: UPSTREAMS.slice(0, 1), selfHostedNode: NODE }); }, { namespace: 'chain' });
    const sts = find(objects, 'StatefulSet', 'rpc-node');
    const node = container(sts, 'node');
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe('rpc-node');
    expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Ti' } } });
    expect(node.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(node.args).toEqual(NODE.args);
    expect(node.ports).toEqual([{ name: 'http', containerPort: 8545, protocol: 'TCP' }, { name: 'ws', containerPort: 8546, protocol: 'TCP' }]);
    expect(node.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect(node.resources).toEqual({ requests: { cpu: '4', memory: '16Gi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '8', memory: '32Gi', 'ephemeral-storage': '512Mi' } });
    expect(find(objects, 'Service', 'rpc-node').spec.ports.map((x: K8sObject) => x.port)).toEqual([8545, 8546]);
    expect(find(objects, 'PodDisruptionBudget', 'rpc-node').spec.maxUnavailable).toBe(1);

    const env = envOf(container(find(objects, 'Deployment', 'rpc')));
    expect(env.RPC_UPSTREAM_COUNT.value).toBe('2');
    expect(env.RPC_UPSTREAM_2_NAME.value).toBe('self-hosted');
    expect(env.RPC_UPSTREAM_2_URL.value).toBe('http://rpc-node:8545/');
    expect(env.RPC_UPSTREAM_2_WS_URL.value).toBe('ws://rpc-node:8546/');
    expect(env.RPC_UPSTREAM_2_WEIGHT.value).toBe(String(RPC.selfHostedWeight));
    expect(p!.upstreams.map((u) => u.source)).toEqual(['secret', 'self-hosted']);
  });

  it('counts the self-hosted node towards the two upstreams', () => {
    expect(() => build((chart) => new RpcPool(chart, 'rpc', { upstreams: [], selfHostedNode: NODE, allowSingleUpstream: true }))).not.toThrow();
    invalid({ upstreams: [], selfHostedNode: NODE }, 'upstreams', /at least 2 upstreams, counting selfHostedNode/, 1);
  });

  it('with monitoring: an exporter sidecar serving the metrics port, a ServiceMonitor and four alerts', () => {
    const objects = pool({ monitoring: { gasPrice: { metric: 'eth_gas_price_wei{chain="mainnet"}' } } });
    const deployment = find(objects, 'Deployment');
    const exporter = container(deployment, 'metrics');
    expect(exporter.command).toEqual(['python3', '/etc/rpc/metrics-exporter.py']);
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: 9145, protocol: 'TCP' }]);
    expect(exporter.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(envOf(container(deployment, 'app')).RPC_METRICS_SYSLOG.value).toBe(envOf(exporter).RPC_METRICS_SYSLOG.value);
    expect(container(deployment, 'app').ports).toHaveLength(1);
    expect(find(objects, 'Service').spec.ports.map((x: K8sObject) => x.name)).toEqual(['http', 'metrics']);
    expect(find(objects, 'ServiceMonitor').spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);

    const rules = find(objects, 'PrometheusRule').spec.groups[0].rules as K8sObject[];
    expect(rules.map((r) => [r.alert, r.labels.severity])).toEqual([['RpcUpstreamErrors', 'warning'], ['RpcAllUpstreamsDown', 'critical'], ['RpcGasPriceHigh', 'warning'], ['RpcUpstreamLagging', 'warning']]);
    expect(rules[3].expr).toBe('max by (upstream) (rpc_upstream_lagging{job="rpc",namespace="chain"}) == 1');
    expect(envOf(exporter).RPC_METRICS_STATE_URL.value).toBe('http://127.0.0.1:18545/_rpc_state');
    // The nginx engine has no lag state: no gauge source, no lag alert.
    const plain = pool({ engine: 'nginx', monitoring: true });
    expect(find(plain, 'PrometheusRule').spec.groups[0].rules.map((r: K8sObject) => r.alert)).toEqual(['RpcUpstreamErrors', 'RpcAllUpstreamsDown']);
    expect(envOf(container(find(plain, 'Deployment'), 'metrics')).RPC_METRICS_STATE_URL).toBeUndefined();
    expect(rules[0].expr).toContain('rpc_upstream_attempts_total{job="rpc",namespace="chain",kind="http",code=~"5..|429|rpc.*"}');
    expect(rules[0].expr).toMatch(/> 0\.1$/);
    expect(rules[1].expr).toContain('or vector(0)) == 0');
    expect(rules[2].expr).toBe('eth_gas_price_wei{chain="mainnet"} > 2 * avg_over_time(eth_gas_price_wei{chain="mainnet"}[1d])');
  });

  it('takes the gas alert factor and baseline window, and can leave alerts out', () => {
    const objects = pool({ monitoring: { gasPrice: { metric: 'gas_price', factor: 3, baselineWindow: '12h' }, upstreamErrorRatio: 0.25 } });
    const rules = find(objects, 'PrometheusRule').spec.groups[0].rules as K8sObject[];
    expect(rules[2].expr).toBe('gas_price > 3 * avg_over_time(gas_price[12h])');
    expect(rules[0].expr).toMatch(/> 0\.25$/);
    expect(findAll(pool({ monitoring: { alerts: false } }), 'PrometheusRule')).toEqual([]);
    expect(findAll(pool(), 'ServiceMonitor')).toEqual([]);
  });
});

describe('RpcPool validation', () => {
  it('needs 2 upstreams unless a single one is explicitly allowed', () => {
    invalid({ upstreams: UPSTREAMS.slice(0, 1) }, 'upstreams', /at least 2 upstreams.*allowSingleUpstream/, 1);
    expect(() => build((chart) => new RpcPool(chart, 'rpc', { upstreams: UPSTREAMS.slice(0, 1), allowSingleUpstream: true }))).not.toThrow();
    invalid({ upstreams: [], allowSingleUpstream: true }, 'upstreams', /at least 1 upstream/, 0);
    invalid({ upstreams: Array.from({ length: 17 }, (_, i) => ({ url: `http://n${i}.example` })) }, 'upstreams', /at most 16/, 17);
  });

  it('refuses malformed URLs and wrong schemes', () => {
    invalid({ upstreams: [{ url: 'not a url' }, UPSTREAMS[1]] }, 'upstreams[0].url', /http:\/\/ or https:\/\/ URL without spaces/);
    invalid({ upstreams: [{ url: 'http//missing-colon.example' }, UPSTREAMS[1]] }, 'upstreams[0].url', /does not parse/);
    invalid({ upstreams: [{ url: 'ftp://files.example/rpc' }, UPSTREAMS[1]] }, 'upstreams[0].url', /must be a http:\/\/ or https:\/\/ URL$/);
    invalid({ upstreams: [{ url: 'http://under_score.example' }, UPSTREAMS[1]] }, 'upstreams[0].url', /DNS name or IP address/);
    invalid({ upstreams: [{ url: 'https://a.example/rpc#frag' }, UPSTREAMS[1]] }, 'upstreams[0].url', /without spaces, quotes, '\$', '#'/);
    invalid({ upstreams: [{ url: 'https://a.example', wsUrl: 'https://a.example/ws' }, UPSTREAMS[1]] }, 'upstreams[0].wsUrl', /ws:\/\/ or wss:\/\//);
  });

  it('refuses credentials in plain URLs and never echoes them', () => {
    const cases: Array<[string, RegExp, string]> = [
      [`https://user:hunter2secret@rpc.example/`, /user:password.*urlSecret/, 'hunter2secret'],
      [`https://rpc.example/eth?apikey=${KEY}`, /query string.*urlSecret/, KEY],
      [`https://mainnet.infura.io/v3/${KEY}`, /looks like an API key.*urlSecret/, KEY],
      [`https://${KEY}.rpc.example:8545/`, /host label that looks like an API key.*urlSecret/, KEY],
    ];
    for (const [url, allowed, secret] of cases) {
      const err = invalid({ upstreams: [{ url }, UPSTREAMS[1]] }, 'upstreams[0].url', allowed);
      expect(err.message).not.toContain(secret);
      expect(err.message).toContain('<redacted>');
    }
    const ws = invalid({ upstreams: [{ url: 'https://a.example', wsUrl: `wss://mainnet.infura.io/ws/v3/${KEY}` }, UPSTREAMS[1]] }, 'upstreams[0].wsUrl', /wsUrlSecret/);
    expect(ws.message).not.toContain(KEY);
  });

  it('wants exactly one of url and urlSecret, and well-formed Secret references', () => {
    invalid({ upstreams: [{ name: 'x' }, UPSTREAMS[1]] }, 'upstreams[0].url', /is required: give url, or urlSecret/);
    invalid({ upstreams: [{ url: 'https://a.example', urlSecret: { secretName: 's', key: 'k' } }, UPSTREAMS[1]] }, 'upstreams[0].url', /either url or urlSecret/);
    invalid({ upstreams: [{ urlSecret: { secretName: 'Bad_Name', key: 'k' } }, UPSTREAMS[1]] }, 'upstreams[0].urlSecret.secretName', /DNS-1123/, 'Bad_Name');
    invalid({ upstreams: [{ urlSecret: { secretName: 'rpc', key: 'a/b' } }, UPSTREAMS[1]] }, 'upstreams[0].urlSecret.key', /Secret key/, 'a/b');
    invalid({ upstreams: [{ wsUrlSecret: { secretName: 'rpc', key: 'ws' }, wsUrl: 'wss://a.example', url: 'https://a.example' }, UPSTREAMS[1]] }, 'upstreams[0].wsUrl', /either wsUrl or wsUrlSecret/);
  });

  it('refuses weights out of 1–100, bad or duplicate names and duplicate URLs', () => {
    for (const weight of [0, 101, 1.5]) invalid({ upstreams: [{ url: 'https://a.example', weight }, UPSTREAMS[1]] }, 'upstreams[0].weight', /integer from 1 to 100/, weight);
    invalid({ upstreams: [{ url: 'https://a.example', name: 'Alchemy' }, UPSTREAMS[1]] }, 'upstreams[0].name', /lower-case/, 'Alchemy');
    invalid({ upstreams: [{ url: 'https://a.example', name: 'publicnode' }, UPSTREAMS[1]] }, 'upstreams[1].name', /unique/, 'publicnode');
    invalid({ upstreams: [{ url: 'https://a.example', name: 'self-hosted' }, UPSTREAMS[1]], selfHostedNode: NODE }, 'upstreams[0].name', /reserved for selfHostedNode/);
    invalid({ upstreams: [{ url: 'https://a.example/' }, { url: 'https://a.example' }] }, 'upstreams[1].url', /already used/);
    invalid({ upstreams: [UPSTREAMS[0], { ...UPSTREAMS[0], name: 'again' }] }, 'upstreams[1].urlSecret', /already used/);
  });

  it('refuses tuning out of range', () => {
    invalid({ maxTries: 4 }, 'maxTries', /from 1 to 3/, 4);
    invalid({ connectTimeoutSeconds: 0 }, 'connectTimeoutSeconds', /from 1 to 60/, 0);
    invalid({ readTimeoutSeconds: 601 }, 'readTimeoutSeconds', /from 1 to 600/, 601);
    invalid({ retryTimeoutSeconds: 0.5 }, 'retryTimeoutSeconds', /integer/, 0.5);
    invalid({ maxFails: 0 }, 'maxFails', /from 1 to 100/, 0);
    invalid({ failTimeoutSeconds: 0 }, 'failTimeoutSeconds', /from 1 to 3600/, 0);
    invalid({ maxRequestBodyBytes: 10 }, 'maxRequestBodyBytes', /from 1024/, 10);
    invalid({ wsIdleTimeoutSeconds: 0 }, 'wsIdleTimeoutSeconds', /from 1 to 86400/, 0);
    invalid({ port: 70000 }, 'port', /from 1 to 65535/, 70000);
    invalid({ name: 'Chain_RPC' }, 'name', /DNS-1035/, 'Chain_RPC');
    invalid({ image: 'nginxinc/nginx-unprivileged:latest' }, 'image', /pinned/);
  });

  it('refuses an incomplete self-hosted node', () => {
    invalid({ selfHostedNode: { ...NODE, resources: { requests: { cpu: '4', memory: '16Gi' }, limits: { cpu: '8' } } } }, 'selfHostedNode.resources.limits.memory', /required/);
    invalid({ selfHostedNode: { ...NODE, storage: 'lots' } }, 'selfHostedNode.storage', /memory quantity/, 'lots');
    invalid({ selfHostedNode: { ...NODE, wsPort: 8545 } }, 'selfHostedNode.wsPort', /differ from httpPort/, 8545);
    invalid({ selfHostedNode: { ...NODE, image: 'ethereum/client-go' } }, 'selfHostedNode.image', /pinned/);
    invalid({ selfHostedNode: { ...NODE, weight: 0 } }, 'selfHostedNode.weight', /from 1 to 100/, 0);
    invalid({ selfHostedNode: { ...NODE, dataPath: '/tmp' } }, 'selfHostedNode.dataPath', /other than/, '/tmp');
  });

  it('refuses bad monitoring settings', () => {
    invalid({ monitoring: { gasPrice: { metric: 'gas price' } } }, 'monitoring.gasPrice.metric', /metric name/, 'gas price');
    invalid({ monitoring: { gasPrice: { metric: 'gas', factor: 1 } } }, 'monitoring.gasPrice.factor', /above 1/, 1);
    invalid({ monitoring: { gasPrice: { metric: 'gas', baselineWindow: 'a day' } } }, 'monitoring.gasPrice.baselineWindow', /duration/, 'a day');
    invalid({ monitoring: { upstreamErrorRatio: 1 } }, 'monitoring.upstreamErrorRatio', /between 0 and 1/, 1);
    invalid({ monitoring: { interval: '30 s' } }, 'monitoring.interval', /duration/, '30 s');
  });
});

describe('RpcPool engines', () => {
  it('runs the JSON-RPC-aware njs engine by default with the documented lag, poll, backoff and response settings', () => {
    const env = envOf(container(find(pool(), 'Deployment', 'rpc'), 'app'));
    const values = Object.fromEntries(Object.entries(env).map(([k, e]) => [k, e.value]));
    expect(values).toMatchObject({
      RPC_ENGINE: 'njs', RPC_MAX_LAG: '10', RPC_HEAD_POLL_INTERVAL: '5', RPC_RATE_LIMIT_BACKOFF: '10',
      RPC_MAX_RESPONSE: '16384k', RPC_CONTROL_PORT: '18545',
    });
    expect(RPC_PROXY_FILES).toContain('rpc.js');
  });

  it('keeps the nginx engine as an option, on the nginx >= 1.27.3 image, without the njs settings', () => {
    const objects = pool({ engine: 'nginx' });
    const app = container(find(objects, 'Deployment', 'rpc'), 'app');
    const env = envOf(app);
    expect(app.image).toBe(RPC.proxyImage);
    expect(env.RPC_ENGINE.value).toBe('nginx');
    expect(env.RPC_MAX_LAG).toBeUndefined();
  });

  it('routes writes only to upstreams with writes: true, and marks the others in env', () => {
    const objects = pool({ upstreams: [{ ...UPSTREAMS[0], writes: false }, ...UPSTREAMS.slice(1)] });
    const env = envOf(container(find(objects, 'Deployment', 'rpc'), 'app'));
    expect(env.RPC_UPSTREAM_1_WRITES.value).toBe('false');
    expect(env.RPC_UPSTREAM_2_WRITES).toBeUndefined();
  });

  it('refuses a bad engine, njs settings on the nginx engine, no writable upstream, and the control port', () => {
    invalid({ engine: 'erpc' as never }, 'engine', /'njs', 'nginx'/, 'erpc');
    invalid({ engine: 'nginx', maxBlockLag: 5 }, 'maxBlockLag', /engine: 'njs'/, 5);
    invalid({ engine: 'nginx', upstreams: [{ ...UPSTREAMS[0], writes: false }, ...UPSTREAMS.slice(1)] }, 'upstreams[0].writes', /engine: 'njs'/, false);
    invalid({ upstreams: UPSTREAMS.map((u) => ({ ...u, writes: false })) }, 'upstreams', /writes: true/);
    invalid({ upstreams: [{ ...UPSTREAMS[0], writes: 'no' as never }, ...UPSTREAMS.slice(1)] }, 'upstreams[0].writes', /true or false/, 'no');
    invalid({ maxBlockLag: -1 }, 'maxBlockLag', /integer|0/, -1);
    invalid({ headPollIntervalSeconds: 0 }, 'headPollIntervalSeconds', /1/, 0);
    invalid({ rateLimitBackoffSeconds: Number.NaN }, 'rateLimitBackoffSeconds', /./);
    invalid({ maxResponseBytes: 1000 }, 'maxResponseBytes', /65536/, 1000);
    invalid({ port: 18545 }, 'port', /18545/, 18545);
  });
});

describe('RpcPool NetworkPolicy (issue 18)', () => {
  const tcp = (port: number): K8sObject => ({ protocol: 'TCP', port });

  it('is on by default and admits no client until one is wired: an empty `from` would admit every pod', () => {
    const policy = find(pool(), 'NetworkPolicy');
    expect(policy.spec).toEqual({ podSelector: { matchLabels: find(pool(), 'Deployment').spec.selector.matchLabels }, policyTypes: ['Ingress'], ingress: [] });
  });

  it('admits the workloads wired with connectRpc on the proxy port, and scrapers from the monitoring namespace on the exporter port', () => {
    const objects = synth((chart) => {
      const rpc = new RpcPool(chart, 'rpc', { upstreams: UPSTREAMS, monitoring: true });
      const api = new StatelessService(chart, 'api', { image: 'ghcr.io/example/api:1.0.0' });
      const indexer = new StatelessService(chart, 'indexer', { image: 'ghcr.io/example/indexer:1.0.0' });
      connectRpc(api, rpc);
      connectRpc(indexer, rpc);
      rpc.allowClient(indexer.selector); // admitting twice adds no second peer
    }, { namespace: 'chain' });
    const policy = find(objects, 'NetworkPolicy', 'rpc');
    const selectorOf = (name: string): K8sObject => find(objects, 'Deployment', name).spec.selector.matchLabels;
    expect(policy.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: selectorOf('api') } }, { podSelector: { matchLabels: selectorOf('indexer') } }], ports: [tcp(8545)] },
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [tcp(9145)] },
    ]);
  });

  it('takes extra client labels and a scraper selector, lets only the proxy reach the self-hosted node, and can be turned off', () => {
    const objects = pool({
      selfHostedNode: NODE,
      monitoring: true,
      networkPolicy: { clientLabels: { 'app.kubernetes.io/part-of': 'chain' }, metricsNamespace: 'observability', metricsPodLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    });
    const policy = find(objects, 'NetworkPolicy', 'rpc');
    expect(policy.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'chain' } } }], ports: [tcp(8545)] },
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }], ports: [tcp(9145)] },
    ]);
    const node = find(objects, 'NetworkPolicy', 'rpc-node');
    expect(node.spec.podSelector.matchLabels).toEqual(find(objects, 'StatefulSet').spec.selector.matchLabels);
    expect(node.spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: find(objects, 'Deployment', 'rpc').spec.selector.matchLabels } }], ports: [tcp(8545), tcp(8546)] }]);
    expect(findAll(pool({ networkPolicy: false }), 'NetworkPolicy')).toEqual([]);
  });

  it('refuses empty or malformed selectors and namespaces', () => {
    invalid({ networkPolicy: { clientLabels: {} } }, 'networkPolicy.clientLabels', /at least one label/);
    invalid({ networkPolicy: { metricsPodLabels: { 'bad key!': 'x' } } }, 'networkPolicy.metricsPodLabels.bad key!', /label key/);
    invalid({ networkPolicy: { metricsNamespace: 'Monitoring' } }, 'networkPolicy.metricsNamespace', /namespace/, 'Monitoring');
    invalid({ networkPolicy: 'on' as never }, 'networkPolicy', /true, false/, 'on');
  });
});

describe('RpcPool: every mistake at once', () => {
  it('one resolve step reports each mistake (pool, upstreams, monitoring, the proxy\'s scaling) with path, property, value and what is allowed', () => {
    const chart = new Chart(Testing.app(), 'test');
    new RpcPool(chart, 'rpc', {
      upstreams: [{ url: 'ftp://files.example/rpc' }, { ...UPSTREAMS[1], weight: 0 }],
      maxFails: 0,
      monitoring: { upstreamErrorRatio: 2 },
      autoscaling: { minReplicas: 0 },
    });
    const errors = validateAll(chart);
    expect(errors.map((e) => [e.constructPath, e.property, e.value])).toEqual([
      ['test/rpc', 'upstreams[0].url', 'ftp://files.example/rpc'],
      ['test/rpc', 'upstreams[1].weight', 0],
      ['test/rpc', 'maxFails', 0],
      ['test/rpc', 'monitoring.upstreamErrorRatio', 2],
      ['test/rpc', 'autoscaling.minReplicas', 0],
    ]);
    expect(errors.map((e) => e.allowed)).toEqual([
      expect.stringMatching(/http:\/\/ or https:\/\//), expect.stringMatching(/from 1 to 100/), expect.stringMatching(/from 1 to 100/),
      expect.stringMatching(/between 0 and 1/), expect.stringMatching(/integer/),
    ]);
    expect(() => throwIfInvalid(chart)).toThrow(ValidationErrors);
    expect(chart.node.findAll().filter((c) => ['proxy', 'config', 'node'].includes(c.node.id))).toEqual([]);
  });
  it("the proxy's rules are judged on the pool's properties (no error blamed on a nested construct)", () => {
    const chart = new Chart(Testing.app(), 'test');
    new RpcPool(chart, 'rpc', { upstreams: UPSTREAMS, autoscaling: { minReplicas: 5, maxReplicas: 2 } });
    const errors = validateAll(chart);
    expect(errors.map((e) => e.constructPath)).toEqual(['test/rpc']);
    expect(errors[0].property).toMatch(/^autoscaling\./);
  });
});

describe('chain example', () => {
  it('wires the indexer to the pool through RpcConnectionInfo, keyed URLs from the Secret', () => {
    const objects = synthApp((app) => chain(app));
    const indexer = envOf(container(find(objects, 'Deployment', 'did-indexer')));
    expect(indexer.CHAIN_RPC_URL.value).toBe('http://eth-rpc:8545/');
    expect(indexer.CHAIN_WS_URL.value).toBe('ws://eth-rpc:8545/ws');
    const proxy = envOf(container(find(objects, 'Deployment', 'eth-rpc'), 'app'));
    expect(proxy.RPC_UPSTREAM_1_URL_FILE.value).toBe('/etc/rpc-urls/upstream-1-http');
    const urls = find(objects, 'Deployment', 'eth-rpc').spec.template.spec.volumes.find((v: K8sObject) => v.name === 'rpc-urls');
    expect(urls.projected.sources[0]).toEqual({ secret: { name: 'eth-rpc-urls', items: [{ key: 'alchemy', path: 'upstream-1-http' }] } });
    expect(proxy.RPC_UPSTREAM_COUNT.value).toBe('3');
    expect(findAll(objects, 'PrometheusRule')).toHaveLength(1);
  });
});

describe('StatelessService sidecars (used by RpcPool)', () => {
  const sidecar = (name: string, portName: string): k8s.Container => ({
    name, image: 'busybox:1.37.0', ports: [{ name: portName, containerPort: 9100 }],
    resources: { requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('16Mi') }, limits: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('32Mi') } },
    securityContext: containerSecurityContext(true),
  });

  it('lets a sidecar serve the metrics port', () => {
    const objects = synth((chart) => new StatelessService(chart, 'api', { image: 'ghcr.io/example/api:1.0.0', metricsPort: 9100, sidecars: [sidecar('exporter', 'metrics')] }));
    const deployment = find(objects, 'Deployment');
    expect(deployment.spec.template.spec.containers.map((c: K8sObject) => c.name)).toEqual(['app', 'exporter']);
    expect(container(deployment, 'app').ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  it('refuses a sidecar named "app" and a metrics port the Service could not find by name', () => {
    expectValidationError(() => build((chart) => new StatelessService(chart, 'api', { image: 'ghcr.io/example/api:1.0.0', sidecars: [sidecar('app', 'x')] })),
      { path: 'test/api', property: 'sidecars[0].name', value: 'app', allowed: /unique and not "app"/ });
    expectValidationError(() => build((chart) => new StatelessService(chart, 'api', { image: 'ghcr.io/example/api:1.0.0', metricsPort: 9100, sidecars: [sidecar('exporter', 'prom')] })),
      { path: 'test/api', property: 'sidecars', value: 'exporter', allowed: /name its port 9100 "metrics"/ });
  });
});
