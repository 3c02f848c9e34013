import type { AlertRule } from '../monitoring';
import type { ResolvedMonitoring } from './resolve';
import type { RpcEngine } from './rpc-pool';

/** The pool's alerts: upstream errors, all upstreams down, gas price (seed 000) and, with njs, a lagging upstream. */
export function rpcAlertRules(name: string, namespace: string | undefined, monitoring: ResolvedMonitoring, engine: RpcEngine): AlertRule[] {
  const sel = `job="${name}"${namespace ? `,namespace="${namespace}"` : ''}`;
  const attempts = (extra: string): string => `rate(rpc_upstream_attempts_total{${sel},kind="http"${extra}}[5m])`;
  const rules: AlertRule[] = [
    {
      alert: 'RpcUpstreamErrors',
      expr: `sum by (upstream) (${attempts(',code=~"5..|429|rpc.*"')}) / sum by (upstream) (${attempts('')}) > ${monitoring.upstreamErrorRatio}`,
      for: '10m',
      severity: 'warning',
      summary: `RPC upstream {{ $labels.upstream }} of ${name} fails more than ${Math.round(monitoring.upstreamErrorRatio * 1000) / 10} % of attempts`,
      description: 'The pool fails over to the other upstreams meanwhile. code="rpc-32005" is a rate limit, other rpc codes JSON-RPC errors that mean the upstream failed. Check the provider status, quota and API key.',
    },
    {
      alert: 'RpcAllUpstreamsDown',
      expr: `(sum(${attempts(',code=~"2.."')}) or vector(0)) == 0 and sum(rate(rpc_requests_total{${sel},kind="http"}[5m])) > 0`,
      for: '2m',
      severity: 'critical',
      summary: `No upstream of RPC pool ${name} answers: clients get 502/504`,
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
      summary: `RPC upstream {{ $labels.upstream }} of ${name} lags the best head by more than the allowed blocks`,
      description: 'It gets no traffic meanwhile (rpc_upstream_lag_blocks shows by how much). Check the provider or node sync status.',
    });
  }
  return rules;
}
