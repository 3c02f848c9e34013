import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { WORKERS } from './defaults';
import { ValidationError } from './errors';
import { checkInteger, checkPort } from './validate';

/**
 * The WorkerPool liveness contract (issue 18, docs/workers.md). A worker has no request path for the kubelet to
 * probe, and a wedged one (deadlocked, stuck on a dead connection) keeps its KEDA replica forever: it must prove it
 * is alive.
 */
export type WorkerLivenessProps =
  /**
   * The worker touches `file` at least every `maxAgeSeconds` (between jobs, and on progress of long jobs). An exec
   * probe (`sh`, `date`, `stat`: busybox or coreutils) restarts it when the file is missing or older.
   * Passed to the worker as `HEARTBEAT_FILE` and `HEARTBEAT_MAX_AGE_SECONDS`.
   */
  | { readonly type: 'heartbeat'; readonly file?: string; readonly maxAgeSeconds?: number; readonly startupSeconds?: number }
  /** The worker serves `path` on `port` (`HEALTH_PORT`, `HEALTH_PATH`), answering 2xx only while its loop runs. */
  | { readonly type: 'http'; readonly port: number; readonly path?: string; readonly startupSeconds?: number }
  /** A TCP check of `metricsPort` (weakest: a metrics thread may outlive a wedged loop). */
  | { readonly type: 'metrics' };

export interface ResolvedWorkerLiveness {
  readonly env: Record<string, string>;
  readonly ports: k8s.ContainerPort[];
  readonly probes: Pick<k8s.Container, 'livenessProbe' | 'startupProbe'>;
}

/** The exec check of a heartbeat file: fails when it is missing or older than `maxAge` seconds. */
export function heartbeatCommand(file: string, maxAgeSeconds: number): string[] {
  return ['/bin/sh', '-c', `test $(( $(date +%s) - $(stat -c %Y ${file}) )) -lt ${maxAgeSeconds}`];
}

export function resolveWorkerLiveness(scope: Construct, given: WorkerLivenessProps | false | undefined, metricsPort: number | undefined): ResolvedWorkerLiveness {
  if (given === false) return { env: {}, ports: [], probes: {} };
  const l = given ?? { type: 'heartbeat' };
  if (typeof l !== 'object' || l === null) throw new ValidationError(scope, 'liveness', l, 'must be false or { type: "heartbeat" | "http" | "metrics", … }');
  const startup = (s: number | undefined) => checkInteger(scope, 'liveness.startupSeconds', s ?? WORKERS.startupSeconds, { min: 5, max: 3600 });
  switch (l.type) {
    case 'heartbeat': {
      const file = l.file ?? WORKERS.heartbeatFile;
      // The root filesystem is read-only: the file must sit on the /tmp emptyDir; plain characters only, it goes into a shell.
      if (typeof file !== 'string' || !/^\/tmp\/[A-Za-z0-9._/-]+$/.test(file) || file.includes('..')) {
        throw new ValidationError(scope, 'liveness.file', file, 'must be a path under /tmp (the writable emptyDir) of letters, digits, ".", "_", "-" and "/"');
      }
      const maxAge = checkInteger(scope, 'liveness.maxAgeSeconds', l.maxAgeSeconds ?? WORKERS.heartbeatMaxAgeSeconds, { min: 10, max: 86_400 });
      const exec = { exec: { command: heartbeatCommand(file, maxAge) } };
      const period = Math.max(5, Math.min(30, Math.floor(maxAge / 2)));
      return {
        env: { HEARTBEAT_FILE: file, HEARTBEAT_MAX_AGE_SECONDS: String(maxAge) },
        ports: [],
        probes: {
          livenessProbe: { ...exec, periodSeconds: period, timeoutSeconds: 5, failureThreshold: 2 },
          startupProbe: { ...exec, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: Math.ceil(startup(l.startupSeconds) / 5) },
        },
      };
    }
    case 'http': {
      const port = checkPort(scope, 'liveness.port', l.port);
      const path = l.path ?? WORKERS.healthPath;
      if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path)) {
        throw new ValidationError(scope, 'liveness.path', path, 'must be an absolute HTTP path starting with "/"');
      }
      const portName = port === metricsPort ? 'metrics' : 'health';
      const httpGet = { httpGet: { path, port: k8s.IntOrString.fromString(portName) } };
      return {
        env: { HEALTH_PORT: String(port), HEALTH_PATH: path },
        ports: port === metricsPort ? [] : [{ name: 'health', containerPort: port, protocol: 'TCP' }],
        probes: {
          livenessProbe: { ...httpGet, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
          startupProbe: { ...httpGet, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: Math.ceil(startup(l.startupSeconds) / 5) },
        },
      };
    }
    case 'metrics':
      if (metricsPort === undefined) throw new ValidationError(scope, 'liveness.type', 'metrics', 'needs metricsPort');
      return {
        env: {},
        ports: [],
        probes: { livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 } },
      };
    default:
      throw new ValidationError(scope, 'liveness.type', (l as { type: unknown }).type, 'must be "heartbeat", "http" or "metrics"');
  }
}
