import { k8s } from 'cdk8s-plus-28';
import type { Problems } from '../core/problems';
import { integerRule, isRecord, portName } from '../core/rules';
import { httpPath } from './stateless-resolve';
import { stringList } from './container';

/**
 * Typed probes of every kind (issue 17): HTTP, gRPC, exec and TCP checks with their thresholds, merged over the
 * probes a construct renders by default, so `{ readiness: { periodSeconds: 10 } }` tunes the default check and
 * `{ liveness: { http: { path: '/live', port: 'http' } } }` replaces it.
 */

/** When and how often a probe runs, and what counts as failed (Kubernetes' Probe fields). */
export interface ProbeTimingProps {
  /** @default the construct's (0 for every default probe) */
  readonly initialDelaySeconds?: number;
  /** @default the construct's (see docs) */
  readonly periodSeconds?: number;
  /** @default the construct's */
  readonly timeoutSeconds?: number;
  /** @default the construct's */
  readonly failureThreshold?: number;
  /** Must be 1 for liveness and startup (Kubernetes' rule). @default 1 */
  readonly successThreshold?: number;
}

/**
 * One probe: at most one check (`http`, `grpc`, `exec` or `tcp`) and its timing. Without a check, the timing tunes the
 * construct's default probe of that kind. Ports are numbers or names of the container's ports (`http`, `metrics`, …).
 */
export interface ProbeSpec extends ProbeTimingProps {
  /** HTTP GET on `path` at `port`; `scheme` HTTPS skips certificate checks (kubelet behaviour). @default the construct's check */
  readonly http?: { readonly path: string; readonly port: number | string; readonly scheme?: 'HTTP' | 'HTTPS' };
  /** gRPC health checking protocol on `port` (a number: the kubelet does not resolve names for gRPC). @default the construct's check */
  readonly grpc?: { readonly port: number; readonly service?: string };
  /** A command run in the container; exit 0 is healthy. @default the construct's check */
  readonly exec?: { readonly command: readonly string[] };
  /** A TCP connect to `port`. @default the construct's check */
  readonly tcp?: { readonly port: number | string };
}

/** Liveness, readiness and startup probes; `false` turns one off. */
export interface WorkloadProbesProps {
  /** @default the construct's (StatelessService: TCP on `http`; WorkerPool: see `liveness`) */
  readonly liveness?: ProbeSpec | false;
  /** @default the construct's (StatelessService: HTTP GET `/ready`; WorkerPool: none) */
  readonly readiness?: ProbeSpec | false;
  /** @default the construct's (StatelessService: TCP on `http` for 120 s; WorkerPool: see `liveness`) */
  readonly startup?: ProbeSpec | false;
}

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
const CHECKS = ['http', 'grpc', 'exec', 'tcp'] as const;
const TIMING: ReadonlyArray<[keyof ProbeTimingProps, number]> = [
  ['initialDelaySeconds', 0], ['periodSeconds', 1], ['timeoutSeconds', 1], ['failureThreshold', 1], ['successThreshold', 1],
];

/** Whether a probe prop names a check of its own (and so replaces the construct's). */
export function hasCheck(given: unknown): boolean {
  return isRecord(given) && CHECKS.some((c) => given[c] !== undefined);
}

/** A port the container declares: what a probe may check (kube-linter's *-port checks: an undeclared one is a typo). */
export interface DeclaredPort {
  readonly name: string;
  readonly containerPort: number;
}

/**
 * `given` merged over `base` (the construct's default probe of this kind, if any); undefined means no probe.
 * `ports` are the container's ports, the only ones a check may name or number.
 */
export function resolveProbe(
  p: Problems, property: string, kind: ProbeKind, given: unknown, base: k8s.Probe | undefined, ports: readonly DeclaredPort[],
): k8s.Probe | undefined {
  if (given === undefined) return base;
  if (given === false) return undefined;
  if (!isRecord(given)) {
    p.add(property, given, 'must be false or { http | grpc | exec | tcp, initialDelaySeconds, periodSeconds, timeoutSeconds, failureThreshold, successThreshold }', true);
    return base;
  }
  const checks = CHECKS.filter((c) => given[c] !== undefined);
  if (checks.length > 1) {
    p.add(property, checks.join(' + '), 'must set at most one of http, grpc, exec, tcp');
    return base;
  }
  let action: Pick<k8s.Probe, 'httpGet' | 'grpc' | 'exec' | 'tcpSocket'> | undefined;
  let timing: ProbeTimingProps = {};
  if (checks.length === 1) {
    action = probeCheck(p, `${property}.${checks[0]}`, checks[0], given[checks[0]], ports);
    if (!action) return base;
  } else if (base === undefined) {
    p.add(property, given, `has no default ${kind} probe to tune: set one of http, grpc, exec, tcp`);
    return undefined;
  }
  if (base) {
    const { httpGet: _h, grpc: _g, exec: _e, tcpSocket: _t, ...baseTiming } = base;
    timing = baseTiming as ProbeTimingProps;
  }
  const merged: Record<string, number> = { ...(timing as Record<string, number>) };
  for (const [field, min] of TIMING) {
    if (given[field] === undefined) continue;
    const max = field === 'initialDelaySeconds' || field === 'periodSeconds' || field === 'timeoutSeconds' ? 86_400 : 10_000;
    if (p.check(`${property}.${field}`, given[field], integerRule({ min, max }))) merged[field] = given[field] as number;
  }
  if (kind !== 'readiness' && given.successThreshold !== undefined && given.successThreshold !== 1) {
    p.add(`${property}.successThreshold`, given.successThreshold, `must be 1 for a ${kind} probe (Kubernetes' rule)`);
    delete merged.successThreshold;
  }
  const baseAction = base ? { httpGet: base.httpGet, grpc: base.grpc, exec: base.exec, tcpSocket: base.tcpSocket } : {};
  const chosen = Object.fromEntries(Object.entries(action ?? baseAction).filter(([, v]) => v !== undefined));
  return { ...chosen, ...merged } as k8s.Probe;
}

function probeCheck(
  p: Problems, property: string, check: (typeof CHECKS)[number], v: unknown, ports: readonly DeclaredPort[],
): Pick<k8s.Probe, 'httpGet' | 'grpc' | 'exec' | 'tcpSocket'> | undefined {
  if (!isRecord(v)) {
    p.add(property, v, `must be a ${check} check object`, true);
    return undefined;
  }
  switch (check) {
    case 'http': {
      const errors = p.errors.length;
      const path = httpPath(p, `${property}.path`, v.path, '/');
      const port = probePort(p, `${property}.port`, v.port, ports);
      if (v.scheme !== undefined && v.scheme !== 'HTTP' && v.scheme !== 'HTTPS') p.add(`${property}.scheme`, v.scheme, 'must be "HTTP" or "HTTPS"');
      if (p.errors.length > errors || !port) return undefined;
      return { httpGet: { path, port, ...(v.scheme ? { scheme: v.scheme as string } : {}) } };
    }
    case 'grpc': {
      const okPort = p.check(`${property}.port`, v.port, integerRule({ min: 1, max: 65535 }))
        && (ports.some((x) => x.containerPort === v.port) || (p.add(`${property}.port`, v.port, `must be a port the container declares (${describePorts(ports)})`), false));
      const okService = v.service === undefined || typeof v.service === 'string';
      if (!okService) p.add(`${property}.service`, v.service, 'must be a string (the gRPC service name)', true);
      if (!okPort || !okService) return undefined;
      return { grpc: { port: v.port as number, ...(v.service !== undefined ? { service: v.service as string } : {}) } };
    }
    case 'exec': {
      const command = v.command === undefined
        ? (p.add(`${property}.command`, v.command, 'must be a non-empty list of non-empty strings'), undefined)
        : stringList(p, `${property}.command`, v.command, { nonEmpty: true });
      return command ? { exec: { command } } : undefined;
    }
    case 'tcp': {
      const port = probePort(p, `${property}.port`, v.port, ports);
      return port ? { tcpSocket: { port } } : undefined;
    }
  }
  return undefined;
}

/**
 * A port the container declares, by number or name: a probe of an undeclared port is most often a typo, and
 * kube-linter refuses it.
 */
function probePort(p: Problems, property: string, v: unknown, ports: readonly DeclaredPort[]): k8s.IntOrString | undefined {
  if (typeof v === 'number' && ports.some((x) => x.containerPort === v)) return k8s.IntOrString.fromNumber(v);
  if (typeof v === 'string' && !portName()(v) && ports.some((x) => x.name === v)) return k8s.IntOrString.fromString(v);
  p.add(property, v, `must be a port the container declares, by number or name (${describePorts(ports)})`, typeof v !== 'string' && typeof v !== 'number');
  return undefined;
}

function describePorts(ports: readonly DeclaredPort[]): string {
  return ports.length ? ports.map((x) => `${x.name} ${x.containerPort}`).join(', ') : 'none declared';
}
