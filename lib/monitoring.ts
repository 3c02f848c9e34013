import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { containerSecurityContext } from './pod';

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

export interface ExporterSidecarOptions {
  readonly image: string;
  /** Port the exporter serves `/metrics` on, exposed as the `metrics` container port. */
  readonly port: number;
  readonly env: k8s.EnvVar[];
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly readinessProbe: k8s.Probe;
  readonly livenessProbe: k8s.Probe;
  readonly volumeMounts?: k8s.VolumeMount[];
}

/** A Prometheus exporter next to a datastore: hardened, sized, probed, on a port named `metrics`. */
export function exporterSidecar(opts: ExporterSidecarOptions): k8s.Container {
  return {
    name: 'metrics',
    image: opts.image,
    imagePullPolicy: 'IfNotPresent',
    env: opts.env,
    ports: [{ name: 'metrics', containerPort: opts.port, protocol: 'TCP' }],
    resources: {
      requests: { cpu: k8s.Quantity.fromString(opts.requests.cpu), memory: k8s.Quantity.fromString(opts.requests.memory) },
      limits: { cpu: k8s.Quantity.fromString(opts.limits.cpu), memory: k8s.Quantity.fromString(opts.limits.memory) },
    },
    securityContext: containerSecurityContext(true),
    readinessProbe: opts.readinessProbe,
    livenessProbe: opts.livenessProbe,
    ...(opts.volumeMounts ? { volumeMounts: opts.volumeMounts } : {}),
  };
}
