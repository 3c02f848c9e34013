import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';
import type { ResolvedAutoscaling } from '../autoscaling';
import { Problems } from '../core/problems';
import {
  dns1035Label, dns1123Label, duplicates, integerRule, isRecord, labelValue, portName, prometheusDuration,
} from '../core/rules';
import { STATELESS, STATELESS_PROBES } from '../defaults';
import { imageVersion, selectorLabels, standardLabels } from '../labels';
import type { ResolvedResources } from '../pod';
import type { Preset } from '../presets';
import type { StatelessServiceProps } from '../stateless-service';
import { ResolvedIngress, resolveIngress } from './ingress';
import { ResolvedContainerInputs, checkPodPorts, resolveContainerInputs, resolveImage, stringList } from './container';
import { DeclaredPort, hasCheck, resolveProbe } from './probes';
import { resolveWorkloadAutoscaling, resolveWorkloadResources, workloadBoolean } from './scaling';

/** A StatelessService after defaults, preset and validation: everything rendering needs, nothing it must check. */
export interface ResolvedStatelessService {
  readonly name: string;
  readonly image: string;
  readonly labels: Record<string, string>;
  readonly jobLabels: Record<string, string>;
  readonly selector: Record<string, string>;
  readonly port: number;
  readonly servicePort: number;
  readonly metricsPort?: number;
  readonly metricsPath: string;
  /** Undefined: a fixed count of `replicas`. */
  readonly autoscaling?: ResolvedAutoscaling;
  readonly replicas: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly resources: ResolvedResources;
  readonly container: ResolvedContainerInputs;
  /** The main container's probes; undefined: turned off. */
  readonly probes: { readonly liveness?: k8s.Probe; readonly readiness?: k8s.Probe; readonly startup?: k8s.Probe };
  readonly sidecars: readonly k8s.Container[];
  /** Whether a sidecar serves the metrics port (then the main container does not declare it). */
  readonly metricsBySidecar: boolean;
  /** false: no affinity; true: ClientIP with Kubernetes' timeout; a number: ClientIP with that timeout. */
  readonly stickySessions: boolean | number;
  readonly ingress?: ResolvedIngress;
  /** Whether a chart may put the Service behind an Ingress (`ingress: false` says never). */
  readonly ingressOption: boolean;
  readonly serviceMonitor?: { readonly interval: string };
  readonly disruptionBudget: boolean;
  readonly terminationGracePeriodSeconds: number;
  readonly migration?: { readonly command: string[]; readonly args?: string[]; readonly timeoutSeconds: number; readonly backoffLimit: number };
  readonly preset: Preset;
}

export { INGRESS_HOST } from './ingress';
const HTTP_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;

export function httpPath(p: Problems, property: string, value: unknown, fallback: string): string {
  if (typeof value !== 'string' || !HTTP_PATH.test(value)) {
    p.add(property, value, 'must be an absolute HTTP path starting with "/"', typeof value !== 'string');
    return fallback;
  }
  return value;
}

/**
 * The resolve step of StatelessService: props + preset + defaults → a resolved spec, or every problem found. Pure
 * apart from reading the enclosing Chart's id (the default part-of).
 */
export function resolveStatelessService(
  scope: IConstruct, id: string, props: StatelessServiceProps, preset: Preset,
): { spec: ResolvedStatelessService; errors: Problems['errors'] } {
  const p = new Problems(scope);
  if (!isRecord(props)) p.add('props', props, 'must be an object of StatelessService props', true);
  const given: StatelessServiceProps = isRecord(props) ? props : ({} as StatelessServiceProps);

  const name = p.value('name', given.name ?? id, dns1035Label(52), fallbackName(given.name ?? id));
  const image = resolveImage(p, 'image', given.image, preset.imageRegistry);
  const component = p.value('component', given.component ?? 'server', labelValue(), 'server');
  const partOf = resolvePartOf(p, scope, given.partOf);
  const port = p.value('port', given.port ?? STATELESS.containerPort, integerRule({ min: 1, max: 65535 }), STATELESS.containerPort);
  const servicePort = p.value('servicePort', given.servicePort ?? STATELESS.servicePort, integerRule({ min: 1, max: 65535 }), STATELESS.servicePort);
  let metricsPort = given.metricsPort === undefined ? undefined
    : p.value<number | undefined>('metricsPort', given.metricsPort, integerRule({ min: 1, max: 65535 }), undefined);
  if (metricsPort !== undefined && metricsPort === port) {
    p.add('metricsPort', metricsPort, 'must differ from port; omit it when the main port serves /metrics');
    metricsPort = undefined;
  } else if (metricsPort !== undefined && metricsPort === servicePort) {
    // The Service exposes both; one port number twice is refused by the API server.
    p.add('metricsPort', metricsPort, `must differ from servicePort (${servicePort}): the Service exposes both`);
    metricsPort = undefined;
  }
  const metricsPath = httpPath(p, 'metricsPath', given.metricsPath ?? STATELESS.metricsPath, STATELESS.metricsPath);

  const resources = resolveWorkloadResources(p, given.resources, preset, STATELESS);
  const scaling = resolveWorkloadAutoscaling(p, given, preset);

  const selector = selectorLabels(name, component);
  const labels = standardLabels(scope, { name, component, partOf, version: imageVersion(image) }, preset.labels);
  const jobLabels = standardLabels(scope, { name, component: 'migration', partOf, version: imageVersion(image) }, preset.labels);
  const sidecarNames = Array.isArray(given.sidecars) ? given.sidecars.map((c: unknown) => (isRecord(c) && typeof c.name === 'string' ? c.name : '')).filter(Boolean) : [];
  const container = resolveContainerInputs(p, given, {}, { name, labels, containerNames: ['app', ...sidecarNames] });

  const sidecars = resolveSidecars(p, given.sidecars);
  const metricsSidecar = sidecars.find((c) => (c.ports ?? []).some((x) => x.containerPort === metricsPort));
  if (metricsSidecar && !(metricsSidecar.ports ?? []).some((x) => x.containerPort === metricsPort && x.name === 'metrics')) {
    p.add('sidecars', metricsSidecar.name, `must name its port ${metricsPort} "metrics": the Service and ServiceMonitor target it by name`);
  }
  const mainPorts: k8s.ContainerPort[] = [{ name: 'http', containerPort: port, protocol: 'TCP' }];
  if (metricsPort && !metricsSidecar) mainPorts.push({ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' });
  checkPodPorts(p, 'sidecars', [{ name: 'app', ports: mainPorts }, ...sidecars]);
  const probes = resolveStatelessProbes(p, given.probes, mainPorts.map((x) => ({ name: x.name as string, containerPort: x.containerPort })));

  const stickySessions = resolveSticky(p, given.stickySessions);
  // `false`: no Ingress, and none a chart user could turn on (an internal service).
  const ingress = given.ingress === undefined || given.ingress === false ? undefined : resolveIngress(p, given.ingress);
  const ingressOption = given.ingress !== false;
  let serviceMonitor: { interval: string } | undefined;
  if (given.serviceMonitor !== undefined && given.serviceMonitor !== false) {
    if (given.serviceMonitor !== true && !isRecord(given.serviceMonitor)) {
      p.add('serviceMonitor', given.serviceMonitor, 'must be true, false or { interval }', true);
    } else {
      const interval = given.serviceMonitor === true ? undefined : given.serviceMonitor.interval;
      serviceMonitor = { interval: p.value('serviceMonitor.interval', interval ?? '30s', prometheusDuration(), '30s') };
    }
  }
  const disruptionBudget = workloadBoolean(p, 'disruptionBudget', given.disruptionBudget, preset.disruptionBudget ?? true);
  const terminationGracePeriodSeconds = p.value('terminationGracePeriodSeconds',
    given.terminationGracePeriodSeconds ?? STATELESS.terminationGracePeriodSeconds, integerRule({ min: 0, max: 86_400 }), STATELESS.terminationGracePeriodSeconds);

  let migration: ResolvedStatelessService['migration'];
  if (given.migration !== undefined) {
    const m: unknown = given.migration;
    if (!isRecord(m)) p.add('migration', m, 'must be { command, args, timeoutSeconds, backoffLimit }', true);
    else {
      const command = m.command === undefined
        ? (p.add('migration.command', m.command, 'must be a non-empty list of non-empty strings'), undefined)
        : stringList(p, 'migration.command', m.command, { nonEmpty: true });
      const args = stringList(p, 'migration.args', m.args);
      const timeoutSeconds = p.value('migration.timeoutSeconds', m.timeoutSeconds ?? STATELESS.migrationTimeoutSeconds, integerRule({ min: 30, max: 86_400 }), STATELESS.migrationTimeoutSeconds);
      const backoffLimit = p.value('migration.backoffLimit', m.backoffLimit ?? STATELESS.migrationBackoffLimit, integerRule({ min: 0, max: 10 }), STATELESS.migrationBackoffLimit);
      if (command) migration = { command, ...(args ? { args } : {}), timeoutSeconds, backoffLimit };
    }
  }

  return {
    spec: {
      name, image, labels, jobLabels, selector, port, servicePort, metricsPort, metricsPath,
      autoscaling: scaling.autoscaling, replicas: scaling.minReplicas, minReplicas: scaling.minReplicas, maxReplicas: scaling.maxReplicas,
      resources, container,
      probes,
      sidecars, metricsBySidecar: !!metricsSidecar, stickySessions, ingress, ingressOption, serviceMonitor, disruptionBudget, terminationGracePeriodSeconds,
      migration, preset,
    },
    errors: p.errors,
  };
}

/**
 * Today's probes (readiness GET `readinessPath`, liveness TCP or GET `livenessPath`, startup TCP for
 * `startupTimeoutSeconds`), then the typed `liveness` / `readiness` / `startup` over them. A setting given both ways
 * is refused.
 */
function resolveStatelessProbes(p: Problems, value: unknown, ports: readonly DeclaredPort[]): ResolvedStatelessService['probes'] {
  const probes = isRecord(value) ? value : {};
  if (value !== undefined && !isRecord(value)) p.add('probes', value, 'must be { liveness, readiness, startup, readinessPath, livenessPath, startupTimeoutSeconds }', true);
  const both = (kind: 'liveness' | 'readiness' | 'startup', legacy: string, clash: boolean) => {
    if (probes[legacy] !== undefined && clash) p.add(`probes.${kind}`, probes[kind], `sets what probes.${legacy} sets too; use only probes.${kind}`);
  };
  both('readiness', 'readinessPath', hasCheck(probes.readiness) || probes.readiness === false);
  both('liveness', 'livenessPath', hasCheck(probes.liveness) || probes.liveness === false);
  both('startup', 'startupTimeoutSeconds', probes.startup === false || hasCheck(probes.startup)
    || (isRecord(probes.startup) && (probes.startup.periodSeconds !== undefined || probes.startup.failureThreshold !== undefined)));
  const readinessPath = httpPath(p, 'probes.readinessPath', probes.readinessPath ?? STATELESS.readinessPath, STATELESS.readinessPath);
  const livenessPath = probes.livenessPath === undefined ? undefined : httpPath(p, 'probes.livenessPath', probes.livenessPath, '/');
  const startupTimeout = p.value('probes.startupTimeoutSeconds', probes.startupTimeoutSeconds ?? STATELESS.startupTimeoutSeconds, integerRule({ min: 2, max: 3600 }), STATELESS.startupTimeoutSeconds);
  const http = k8s.IntOrString.fromString('http');
  const base = {
    readiness: { httpGet: { path: readinessPath, port: http }, ...STATELESS_PROBES.readiness },
    liveness: { ...(livenessPath ? { httpGet: { path: livenessPath, port: http } } : { tcpSocket: { port: http } }), ...STATELESS_PROBES.liveness },
    startup: {
      tcpSocket: { port: http }, periodSeconds: STATELESS_PROBES.startupPeriodSeconds,
      failureThreshold: Math.ceil(startupTimeout / STATELESS_PROBES.startupPeriodSeconds),
    },
  };
  const out: { liveness?: k8s.Probe; readiness?: k8s.Probe; startup?: k8s.Probe } = {};
  for (const kind of ['liveness', 'readiness', 'startup'] as const) {
    const probe = resolveProbe(p, `probes.${kind}`, kind, probes[kind], base[kind], ports);
    if (probe) out[kind] = probe;
  }
  return out;
}

/** A stand-in name for a refused one, so wiring after a failed construct still has something to work with. */
export function fallbackName(value: unknown): string {
  const cleaned = typeof value === 'string' ? value.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^[^a-z]+|-+$/g, '').slice(0, 52) : '';
  return cleaned || 'invalid';
}

/** `true`, or a timeout in seconds: 0, NaN or a fraction would silently drop the affinity, so they are refused. */
function resolveSticky(p: Problems, v: unknown): boolean | number {
  if (v === undefined || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return p.value('stickySessions', v, integerRule({ min: 1, max: 86_400 }), true);
  p.add('stickySessions', v, 'must be true, false, or a timeout in seconds from 1 to 86400', true);
  return false;
}

/**
 * Sidecars are Kubernetes containers the caller wrote: checked for what our pod relies on (unique DNS-label names,
 * not "app", valid port names). Their full schema is the API server's to judge.
 */
function resolveSidecars(p: Problems, value: unknown): k8s.Container[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    p.add('sidecars', value, 'must be a list of containers', true);
    return [];
  }
  const out: k8s.Container[] = [];
  const names = value.map((c) => (isRecord(c) ? c.name : undefined));
  value.forEach((c: unknown, i) => {
    if (!isRecord(c)) {
      p.add(`sidecars[${i}]`, c, 'must be a container object', true);
      return;
    }
    if (c.name === 'app' || names.indexOf(c.name) !== i) {
      p.add(`sidecars[${i}].name`, c.name, 'must be unique and not "app" (the main container)');
      return;
    }
    if (!p.check(`sidecars[${i}].name`, c.name, dns1123Label())) return;
    const ports: unknown = c.ports ?? [];
    if (!Array.isArray(ports) || ports.some((x) => !isRecord(x) || integerRule({ min: 1, max: 65535 })(x.containerPort) || (x.name !== undefined && portName()(x.name)))) {
      p.add(`sidecars[${i}].ports`, ports, 'must be container ports with containerPort 1–65535 and IANA service names');
      return;
    }
    out.push(c as unknown as k8s.Container);
  });
  for (const dup of duplicates(out.map((c) => c.name))) p.add('sidecars', dup, 'names must be unique');
  return out;
}

/**
 * `app.kubernetes.io/part-of`: the prop, or the enclosing Chart's id, which must then be a label value as well
 * (a chart id with a space would otherwise reach every object's labels).
 */
export function resolvePartOf(p: Problems, scope: IConstruct, given: unknown): string {
  if (given !== undefined) return p.value('partOf', given, labelValue(), 'invalid');
  const chartId = Chart.of(scope).node.id;
  const r = labelValue()(chartId);
  if (r) p.add('partOf', chartId, `${r.allowed} (it defaults to the enclosing Chart's id; set partOf)`);
  return r ? 'invalid' : chartId;
}
