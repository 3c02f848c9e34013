import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';

/** Prometheus Operator objects (`monitoring.coreos.com/v1`), written as plain ApiObjects with typed inputs. */

export interface ServiceMonitorOptions {
  readonly name: string;
  readonly labels: Record<string, string>;
  /** Labels of the Service(s) to scrape. */
  readonly selector: Record<string, string>;
  /** Named Service port(s) that serve metrics. */
  readonly endpoints: ReadonlyArray<{ readonly port: string; readonly path?: string; readonly interval?: string }>;
}

export function createServiceMonitor(scope: Construct, id: string, opts: ServiceMonitorOptions): ApiObject {
  return new ApiObject(scope, id, {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: opts.name, labels: opts.labels },
    spec: {
      selector: { matchLabels: opts.selector },
      endpoints: opts.endpoints.map((e) => ({ port: e.port, path: e.path ?? '/metrics', interval: e.interval ?? '30s' })),
    },
  });
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  /** How long the condition must hold, e.g. `5m`. */
  readonly for?: string;
  readonly severity: 'warning' | 'critical';
  readonly summary: string;
  readonly description?: string;
}

export interface PrometheusRuleOptions {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly groupName: string;
  readonly rules: readonly AlertRule[];
}

export function createPrometheusRule(scope: Construct, id: string, opts: PrometheusRuleOptions): ApiObject {
  return new ApiObject(scope, id, {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: opts.name, labels: opts.labels },
    spec: {
      groups: [{
        name: opts.groupName,
        rules: opts.rules.map((r) => ({
          alert: r.alert,
          expr: r.expr,
          ...(r.for ? { for: r.for } : {}),
          labels: { severity: r.severity },
          annotations: { summary: r.summary, ...(r.description ? { description: r.description } : {}) },
        })),
      }],
    },
  });
}
