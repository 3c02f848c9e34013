/**
 * A TypeScript port of kube-linter's *default* checks, run over a set of synthesized objects at once.
 *
 * kube-linter itself can't be installed here (the Go module proxy refuses golang.stackrox.io/kube-linter, and it
 * is packaged nowhere else), so the checks kube-linter enables by default are reimplemented from its documented
 * behaviour (docs/generated/checks.md + templates.md, check templates under pkg/templates, default list in
 * internal/defaultchecks). docs/kubelint.md lists every default check, the version matched, and what is
 * implemented or not applicable.
 *
 * Exemptions follow kube-linter's convention: an annotation `ignore-check.kube-linter.io/<check>` (or
 * `kube-linter.io/ignore-all`) on the object. Our policy adds one rule: the annotation's value must be a non-empty
 * reason. An exemption without a reason does not exempt anything and is itself reported (check
 * `undocumented-exemption`).
 */

/** One problem found by a check on one object. */
export interface Finding {
  /** kube-linter's check name (or `undocumented-exemption` for an exemption annotation without a reason). */
  check: string;
  kind: string;
  name: string;
  message: string;
  remediation: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** Annotation-key prefix kube-linter reads per-check exemptions from: `ignore-check.kube-linter.io/<check>`. */
export const IGNORE_CHECK_PREFIX = 'ignore-check.kube-linter.io/';
/** Annotation kube-linter reads to skip every check on an object. */
export const IGNORE_ALL_ANNOTATION = 'kube-linter.io/ignore-all';
/** Our own check: an exemption annotation whose value (the reason) is empty. */
export const UNDOCUMENTED_EXEMPTION = 'undocumented-exemption';

// ---------------------------------------------------------------------------------------------------------------
// Object model helpers: the parts of kube-linter's `extract` package and object-kind matchers we need.
// ---------------------------------------------------------------------------------------------------------------

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

function gvkOf(o: Obj): Gvk {
  const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const slash = apiVersion.indexOf('/');
  return {
    group: slash < 0 ? '' : apiVersion.slice(0, slash),
    version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
    kind: typeof o.kind === 'string' ? o.kind : '',
  };
}

function gvkString(g: Gvk): string {
  return `${g.group ? `${g.group}/` : ''}${g.version}, Kind=${g.kind}`;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const nameOf = (o: Obj): string => str(o.metadata?.name);
const namespaceOf = (o: Obj): string => str(o.metadata?.namespace);
const arr = <T = Obj>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const rec = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** kube-linter's DeploymentLike object kind: these group/kind pairs (DeploymentConfig only with an OpenShift flag). */
const DEPLOYMENT_LIKE: ReadonlyArray<readonly [string, string]> = [
  ['apps', 'Deployment'], ['apps', 'DaemonSet'], ['apps', 'StatefulSet'], ['apps', 'ReplicaSet'],
  ['', 'Pod'], ['', 'ReplicationController'], ['batch', 'Job'], ['batch', 'CronJob'],
];

function isDeploymentLike(o: Obj): boolean {
  const g = gvkOf(o);
  return DEPLOYMENT_LIKE.some(([group, kind]) => g.group === group && g.kind === kind);
}

const isService = (o: Obj): boolean => { const g = gvkOf(o); return g.group === '' && g.kind === 'Service'; };
const isServiceAccount = (o: Obj): boolean => o.apiVersion === 'v1' && o.kind === 'ServiceAccount';
const isPdbV1 = (o: Obj): boolean => o.apiVersion === 'policy/v1' && o.kind === 'PodDisruptionBudget';
const isJobLike = (o: Obj): boolean => { const g = gvkOf(o); return g.group === 'batch' && (g.kind === 'Job' || g.kind === 'CronJob'); };

/** Kinds kube-linter decodes into a type with a `spec.template` pod template (any API group they are served under). */
const TEMPLATED_KINDS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['apps', 'extensions'], DaemonSet: ['apps', 'extensions'], ReplicaSet: ['apps', 'extensions'],
  StatefulSet: ['apps'], ReplicationController: [''], Job: ['batch'],
};

interface PodTemplate {
  metadata: Obj;
  spec: Obj;
}

/** extract.PodTemplateSpec: the pod template of a workload (the Pod itself for a Pod), if the kind has one. */
function podTemplateOf(o: Obj): PodTemplate | undefined {
  const g = gvkOf(o);
  if (g.group === '' && g.kind === 'Pod') return { metadata: rec(o.metadata), spec: rec(o.spec) };
  if (g.group === 'batch' && g.kind === 'CronJob') {
    const t = rec(rec(rec(rec(o.spec).jobTemplate).spec).template);
    return { metadata: rec(t.metadata), spec: rec(t.spec) };
  }
  const groups = TEMPLATED_KINDS[g.kind];
  if (!groups || !groups.includes(g.group)) return undefined;
  const t = rec(rec(o.spec).template);
  return { metadata: rec(t.metadata), spec: rec(t.spec) };
}

const labelsOf = (t: PodTemplate): Record<string, string> => rec(t.metadata.labels) as Record<string, string>;

/** PodSpec.AllContainers(): init, regular and ephemeral containers. */
const allContainers = (spec: Obj): Obj[] => [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)];
/** PodSpec.NonInitContainers(): the regular containers only. */
const regularContainers = (spec: Obj): Obj[] => arr(spec.containers);

/**
 * extract.Selector: the label selector of a workload. `found` is false for kinds without a LabelSelector-typed
 * selector (Pod; ReplicationController, whose selector is a plain map). The selector itself may be absent.
 */
function selectorOf(o: Obj): { found: boolean; selector?: Obj } {
  const g = gvkOf(o);
  if (g.group === 'batch' && g.kind === 'CronJob') return { found: true, selector: o.spec?.jobTemplate?.spec?.selector ?? undefined };
  if ((g.group === 'apps' || g.group === 'extensions') && ['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet'].includes(g.kind)) {
    return { found: true, selector: o.spec?.selector ?? undefined };
  }
  if (g.group === 'batch' && g.kind === 'Job') return { found: true, selector: o.spec?.selector ?? undefined };
  return { found: false };
}

/** extract.Replicas: `spec.replicas` of kinds that have one, defaulting to 1 when unset. */
function replicasOf(o: Obj): { found: boolean; replicas: number } {
  const g = gvkOf(o);
  const hasField = ((g.group === 'apps' || g.group === 'extensions') && ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(g.kind))
    || (g.group === '' && g.kind === 'ReplicationController');
  if (!hasField) return { found: false, replicas: 0 };
  const r = o.spec?.replicas;
  return { found: true, replicas: typeof r === 'number' ? r : 1 };
}

// --- Label selectors (metav1.LabelSelectorAsSelector semantics) ----------------------------------------------

type LabelMatcher = (labels: Record<string, string>) => boolean;

/**
 * Compiles a metav1.LabelSelector. An absent selector matches nothing, an empty one everything; matchLabels are
 * equalities; matchExpressions support In, NotIn, Exists and DoesNotExist with Kubernetes' value-count rules.
 */
function compileSelector(sel: Obj | undefined | null): { matches: LabelMatcher; error?: undefined } | { error: string } {
  if (sel === undefined || sel === null) return { matches: () => false };
  const matchLabels = rec(sel.matchLabels);
  const exprs = arr(sel.matchExpressions);
  const tests: LabelMatcher[] = [];
  for (const [k, v] of Object.entries(matchLabels)) tests.push((l) => Object.prototype.hasOwnProperty.call(l, k) && l[k] === v);
  for (const e of exprs) {
    const key = str(e.key);
    const values = arr<string>(e.values);
    const has = (l: Record<string, string>): boolean => Object.prototype.hasOwnProperty.call(l, key);
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) return { error: `values: Invalid value: []: for '${e.operator}' operator, values set can't be empty` };
        tests.push(e.operator === 'In' ? (l) => has(l) && values.includes(l[key]) : (l) => !has(l) || !values.includes(l[key]));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) return { error: `values: Invalid value: ${JSON.stringify(values)}: values set must be empty for exists and does not exist` };
        tests.push(e.operator === 'Exists' ? has : (l) => !has(l));
        break;
      default:
        return { error: `"${String(e.operator)}" is not a valid label selector operator` };
    }
  }
  return { matches: (l) => tests.every((t) => t(l)) };
}

function selectorString(sel: Obj | undefined): string {
  if (!sel) return '<none>';
  const parts = Object.entries(rec(sel.matchLabels)).map(([k, v]) => `${k}=${String(v)}`);
  for (const e of arr(sel.matchExpressions)) parts.push(`${str(e.key)} ${String(e.operator)} (${arr<string>(e.values).join(',')})`);
  return parts.join(',');
}

// --- Quantities -------------------------------------------------------------------------------------------------

const QUANTITY_SUFFIX: Readonly<Record<string, number>> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const QUANTITY_RE = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** A Kubernetes quantity as a number of base units; undefined when absent (Go's zero Quantity); NaN when invalid. */
function parseQuantity(q: unknown): number | undefined {
  if (q === undefined || q === null) return undefined;
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return NaN;
  const m = QUANTITY_RE.exec(q.trim());
  if (!m) return NaN;
  const base = Number(m[1]);
  if (m[2] !== undefined) return base * 10 ** Number(m[2]);
  return base * QUANTITY_SUFFIX[m[3] ?? ''];
}

// --- Ports --------------------------------------------------------------------------------------------------------

/** k8s.io/apimachinery validation.IsValidPortName: the reasons a port name is invalid (none when valid). */
function portNameViolations(port: string): string[] {
  const out: string[] = [];
  if (port.length > 15) out.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) out.push('must contain at least one letter (a-z)');
  if (port.includes('--')) out.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) out.push('must not begin or end with a hyphen');
  return out;
}

/** An int-or-string as kube-linter keys it: numbers and strings never match each other. */
const intOrStringKey = (v: unknown): string => (typeof v === 'string' ? `s:${v}` : `i:${typeof v === 'number' ? v : 0}`);
const intOrStringText = (v: unknown): string => (typeof v === 'string' ? v : String(typeof v === 'number' ? v : 0));

/** util.CheckProbePort: a probe's httpGet/tcpSocket/grpc port must be a TCP port (number or name) the container exposes. */
function probePortProblems(c: Obj, probe: unknown): string[] {
  const p = rec(probe);
  if (!probe || typeof probe !== 'object') return [];
  const exposed = new Set<string>();
  for (const port of arr(c.ports)) {
    const protocol = str(port.protocol);
    if (protocol !== '' && protocol !== 'TCP') continue;
    exposed.add(intOrStringKey(typeof port.containerPort === 'number' ? port.containerPort : 0));
    exposed.add(intOrStringKey(str(port.name)));
  }
  const name = str(c.name);
  if (p.httpGet && typeof p.httpGet === 'object') {
    const port = rec(p.httpGet).port;
    if (!exposed.has(intOrStringKey(port))) return [`container "${name}" does not expose port ${intOrStringText(port)} for the HTTPGet`];
  }
  if (p.tcpSocket && typeof p.tcpSocket === 'object') {
    const port = rec(p.tcpSocket).port;
    if (!exposed.has(intOrStringKey(port))) return [`container "${name}" does not expose port ${intOrStringText(port)} for the TCPSocket`];
  }
  if (p.grpc && typeof p.grpc === 'object') {
    const port = rec(p.grpc).port;
    const n = typeof port === 'number' ? port : 0;
    if (!exposed.has(intOrStringKey(n))) return [`container "${name}" does not expose port ${n} for the GRPC check`];
  }
  return [];
}

// --- Shared check bodies ------------------------------------------------------------------------------------------

/** Runs `fn` on every container (init, regular, ephemeral) of a DeploymentLike's pod template. */
function perContainer(fn: (c: Obj) => string[]): (o: Obj) => string[] {
  return (o) => {
    const t = podTemplateOf(o);
    return t ? allContainers(t.spec).flatMap(fn) : [];
  };
}

/** Runs `fn` on every regular (non-init) container of a DeploymentLike's pod template. */
function perRegularContainer(fn: (c: Obj) => string[]): (o: Obj) => string[] {
  return (o) => {
    const t = podTemplateOf(o);
    return t ? regularContainers(t.spec).flatMap(fn) : [];
  };
}

/** host-mounts template: hostPath volumes whose path matches one of `dirs`, once per container mounting them. */
function hostMounts(dirs: readonly RegExp[]): (o: Obj) => string[] {
  return (o) => {
    const t = podTemplateOf(o);
    if (!t) return [];
    const out: string[] = [];
    const containers = allContainers(t.spec);
    for (const v of arr(t.spec.volumes)) {
      if (!v.hostPath || typeof v.hostPath !== 'object') continue;
      const path = str(v.hostPath.path);
      for (const re of dirs) {
        if (!re.test(path)) continue;
        for (const c of containers) {
          for (const m of arr(c.volumeMounts)) {
            if (m.name === v.name) out.push(`host system directory "${path}" is mounted on container "${str(c.name)}"`);
          }
        }
      }
    }
    return out;
  };
}

/** Whether a CPU (millicores) or memory (bytes) amount, rounded up like Quantity.MilliValue()/Value(), is zero. */
function unsetOrZero(q: number | undefined, scale: number): boolean {
  if (q === undefined) return true;
  return Math.ceil(q * scale) === 0;
}

function resourceCheck(resource: 'cpu' | 'memory', type: 'requests' | 'limits'): (o: Obj) => string[] {
  const scale = resource === 'cpu' ? 1000 : 1;
  const label = type === 'requests' ? 'request' : 'limit';
  return perContainer((c) => {
    const raw = rec(rec(c.resources)[type])[resource];
    const q = parseQuantity(raw);
    if (q !== undefined && Number.isNaN(q)) return [`container "${str(c.name)}" has an unparseable ${resource} ${label} ${JSON.stringify(raw)}`];
    return unsetOrZero(q, scale) ? [`container "${str(c.name)}" has ${resource} ${label} ${raw === undefined ? '0' : String(raw)}`] : [];
  });
}

/** An int-or-percent value (PDB minAvailable/maxUnavailable): { value, percent } or an error. */
function intOrPercent(v: unknown, stringIntsAllowed: boolean): { value: number; percent: boolean } | { error: string } {
  if (typeof v === 'number') return { value: v, percent: false };
  const s = String(v);
  if (stringIntsAllowed && /^[+-]?\d+$/.test(s)) return { value: Number(s), percent: false };
  if (!s.endsWith('%')) return { error: `invalid type: string ${JSON.stringify(s)} is not a percentage` };
  const n = s.slice(0, -1);
  if (!/^[+-]?\d+$/.test(n)) return { error: `invalid value ${JSON.stringify(s)}` };
  return { value: Number(n), percent: true };
}

/**
 * The labels a workload's selector stands for, as kube-linter's pdb-min-available derives them (the selector's
 * string form parsed back into a label map): fine for matchLabels, an error for any matchExpressions.
 */
function selectorAsLabels(sel: Obj | undefined): { labels: Record<string, string> } | { error: string } {
  if (!sel) return { labels: {} };
  if (arr(sel.matchExpressions).length > 0) return { error: `invalid selector: ${selectorString(sel)}` };
  return { labels: Object.fromEntries(Object.entries(rec(sel.matchLabels)).map(([k, v]) => [k, String(v)])) };
}

const HPA_VERSIONS = new Set(['autoscaling/v1', 'autoscaling/v2', 'autoscaling/v2beta1', 'autoscaling/v2beta2']);

/** HPAs / KEDA ScaledObjects of a namespace by scale-target name (a later one wins), with their minimum replicas. */
function minReplicasByTarget(objects: Obj[], namespace: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of objects) {
    const isHpa = o.kind === 'HorizontalPodAutoscaler' && HPA_VERSIONS.has(str(o.apiVersion));
    const isScaledObject = o.kind === 'ScaledObject' && o.apiVersion === 'keda.sh/v1alpha1';
    if ((!isHpa && !isScaledObject) || namespaceOf(o) !== namespace) continue;
    const min = isHpa ? o.spec?.minReplicas : o.spec?.minReplicaCount;
    out.set(str(o.spec?.scaleTargetRef?.name), typeof min === 'number' ? min : 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The checks.
// ---------------------------------------------------------------------------------------------------------------

interface Check {
  name: string;
  remediation: string;
  /** Which objects the check applies to (kube-linter's check scope). */
  appliesTo: (o: Obj) => boolean;
  /** Diagnostic messages for one object; `objects` is the whole set, for cross-object checks. */
  run: (o: Obj, objects: Obj[]) => string[];
}

const SENSITIVE_HOST_DIRS = ['^/$', '^/boot$', '^/dev$', '^/etc$', '^/lib$', '^/proc$', '^/sys$', '^/usr$'].map((d) => new RegExp(d));
const LATEST_TAG_BLOCKLIST = [/.*:(latest)$/, /^[^:]*$/, /(.*\/[^:]+)$/];
const UNSAFE_SYSCTL_PREFIXES = ['kernel.msg', 'kernel.sem', 'kernel.shm', 'fs.mqueue.', 'net.'];
const CAP_ALL = /^all$/i;
const NET_RAW = /NET_RAW/;

const CHECKS: readonly Check[] = [
  // dangling-service: a Service (other than ExternalName) must have a selector matching the pod template labels of some workload in its namespace.
  {
    name: 'dangling-service',
    remediation: "Confirm that your service's selector correctly matches the labels on one of your deployments.",
    appliesTo: isService,
    run: (svc, objects) => {
      if (svc.spec?.type === 'ExternalName') return [];
      const selector = rec(svc.spec?.selector);
      if (Object.keys(selector).length === 0) return ['service has no selector specified'];
      const ns = namespaceOf(svc);
      const found = objects.some((o) => {
        const t = podTemplateOf(o);
        if (!t || namespaceOf(o) !== ns) return false;
        const labels = labelsOf(t);
        return Object.entries(selector).every(([k, v]) => Object.prototype.hasOwnProperty.call(labels, k) && labels[k] === v);
      });
      return found ? [] : [`no pods found matching service labels (${JSON.stringify(selector)})`];
    },
  },
  // deprecated-service-account-field: pods must not use the deprecated `serviceAccount` field unless it equals serviceAccountName.
  {
    name: 'deprecated-service-account-field',
    remediation: 'Use the serviceAccountName field instead. If you must specify serviceAccount, ensure values for serviceAccount and serviceAccountName match.',
    appliesTo: isDeploymentLike,
    run: (o) => {
      const t = podTemplateOf(o);
      if (!t) return [];
      const sa = str(t.spec.serviceAccount);
      const san = str(t.spec.serviceAccountName);
      if (sa === '' || sa === san) return [];
      if (san === '') return [`serviceAccount is specified (${sa}), but this field is deprecated; use serviceAccountName instead`];
      return [`serviceAccount (${sa}) and serviceAccountName (${san}) are both specified with non-matching values`];
    },
  },
  // docker-sock: no container may mount a hostPath volume whose path ends in docker.sock.
  {
    name: 'docker-sock',
    remediation: 'Ensure the Docker socket is not mounted inside any containers by removing the associated Volume and VolumeMount.',
    appliesTo: isDeploymentLike,
    run: hostMounts([/docker.sock$/]),
  },
  // drop-net-raw-capability: a container that sets capabilities must not add NET_RAW (or ALL) and must drop NET_RAW (or ALL).
  {
    name: 'drop-net-raw-capability',
    remediation: 'Drop the NET_RAW capability (or ALL) in the container securityContext, and never add it.',
    appliesTo: isDeploymentLike,
    run: perContainer((c) => {
      const caps = c.securityContext?.capabilities;
      if (!caps || typeof caps !== 'object') return [];
      const add = arr<string>(caps.add).map(String);
      const drop = arr<string>(caps.drop).map(String);
      const out = add.filter((cap) => NET_RAW.test(cap) || CAP_ALL.test(cap))
        .map((cap) => `container "${str(c.name)}" has ADD capability: "${cap}", which matched with the forbidden capability for containers`);
      if (!drop.some((cap) => NET_RAW.test(cap) || CAP_ALL.test(cap))) {
        out.push(`container "${str(c.name)}" has DROP capabilities: ${JSON.stringify(drop)}, but does not drop capability "NET_RAW" which is required`);
      }
      return out;
    }),
  },
  // duplicate-env-var: a container must not define the same environment variable name twice.
  {
    name: 'duplicate-env-var',
    remediation: 'Confirm that your DeploymentLike does not have duplicate env var names.',
    appliesTo: isDeploymentLike,
    run: perContainer((c) => {
      const seen = new Map<string, number>();
      const out: string[] = [];
      for (const e of arr(c.env)) {
        const n = str(e.name);
        const count = (seen.get(n) ?? 0) + 1;
        seen.set(n, count);
        if (count === 2) out.push(`Duplicate environment variable ${n} in container "${str(c.name)}" found`);
      }
      return out;
    }),
  },
  // env-var-secret: an env var whose name contains "secret" (any case) must not carry a literal value (use secretKeyRef or a mounted file).
  {
    name: 'env-var-secret',
    remediation: 'Do not use raw secrets in environment variables. Instead, either mount the secret as a file or use a secretKeyRef.',
    appliesTo: isDeploymentLike,
    run: perContainer((c) => arr(c.env)
      .filter((e) => /secret/i.test(str(e.name)) && /[^\n]/.test(str(e.value)))
      .map((e) => `environment variable ${str(e.name)} in container "${str(c.name)}" found`)),
  },
  // host-ipc: pods must not share the host's IPC namespace.
  {
    name: 'host-ipc',
    remediation: "Ensure the host's IPC namespace is not shared.",
    appliesTo: isDeploymentLike,
    run: (o) => (podTemplateOf(o)?.spec.hostIPC === true ? ["resource shares host's IPC namespace (via hostIPC=true)."] : []),
  },
  // host-network: pods must not share the host's network namespace.
  {
    name: 'host-network',
    remediation: "Ensure the host's network namespace is not shared.",
    appliesTo: isDeploymentLike,
    run: (o) => (podTemplateOf(o)?.spec.hostNetwork === true ? ["resource shares host's network namespace (via hostNetwork=true)."] : []),
  },
  // host-pid: pods must not share the host's process namespace.
  {
    name: 'host-pid',
    remediation: "Ensure the host's process namespace is not shared.",
    appliesTo: isDeploymentLike,
    run: (o) => (podTemplateOf(o)?.spec.hostPID === true ? ["resource shares host's process namespace (via hostPID=true)."] : []),
  },
  // invalid-target-ports: container port names and Service targetPorts must be valid IANA port names (or numbers 1-65535).
  {
    name: 'invalid-target-ports',
    remediation: 'Ensure port names follow the Kubernetes/IANA service name syntax (RFC 6335 section 5.1) and numeric target ports are in 1-65535.',
    appliesTo: (o) => isDeploymentLike(o) || isService(o),
    run: (o) => {
      const t = podTemplateOf(o);
      if (t) {
        return allContainers(t.spec).flatMap((c) => arr(c.ports)
          .filter((p) => str(p.name) !== '')
          .flatMap((p) => portNameViolations(str(p.name)).map((v) => `port name "${str(p.name)}" in container "${str(c.name)}" ${v}`)));
      }
      return arr(o.spec?.ports).flatMap((p) => {
        const tp: unknown = p.targetPort;
        if (typeof tp === 'string') return portNameViolations(tp).map((v) => `port targetPort "${tp}" in service "${nameOf(o)}" ${v}`);
        const n = typeof tp === 'number' ? tp : 0;
        if (n === 0) return [];
        return n >= 1 && n <= 65535 ? [] : [`port targetPort "${n}" in service "${nameOf(o)}" must be between 1 and 65535, inclusive`];
      });
    },
  },
  // latest-tag: container images must carry an explicit tag other than `latest` (or a digest).
  {
    name: 'latest-tag',
    remediation: 'Use a container image with a specific tag other than latest.',
    appliesTo: isDeploymentLike,
    run: perContainer((c) => {
      const image = str(c.image);
      return LATEST_TAG_BLOCKLIST.some((re) => re.test(image))
        ? [`The container "${str(c.name)}" is using an invalid container image, "${image}". Please use images that are not blocked by the BlockList criteria`]
        : [];
    }),
  },
  // liveness-port: a container's liveness probe must target a TCP port the container exposes.
  {
    name: 'liveness-port',
    remediation: "Check which ports you've exposed and ensure they match what you have specified in the liveness probe.",
    appliesTo: isDeploymentLike,
    run: perRegularContainer((c) => probePortProblems(c, c.livenessProbe)),
  },
  // mismatching-selector: a workload's selector must be set (Jobs/CronJobs excepted) and match its pod template labels.
  {
    name: 'mismatching-selector',
    remediation: 'Confirm that your deployment selector correctly matches the labels in its pod template.',
    appliesTo: isDeploymentLike,
    run: (o) => {
      const { found, selector } = selectorOf(o);
      if (!found) return [];
      if (!selector || (Object.keys(rec(selector.matchLabels)).length === 0 && arr(selector.matchExpressions).length === 0)) {
        return isJobLike(o) ? [] : ['object has no selector specified'];
      }
      const t = podTemplateOf(o);
      if (!t) return [];
      const compiled = compileSelector(selector);
      if (compiled.error !== undefined) return [`object has invalid label selector: ${compiled.error}`];
      return compiled.matches(labelsOf(t)) ? [] : [`labels in pod spec (${JSON.stringify(labelsOf(t))}) do not match labels in selector (${selectorString(selector)})`];
    },
  },
  // no-anti-affinity: a workload with >= 2 replicas must declare pod anti-affinity on kubernetes.io/hostname selecting its own pods.
  {
    name: 'no-anti-affinity',
    remediation: 'Specify podAntiAffinity with a labelSelector that matches the pods of the workload and topologyKey kubernetes.io/hostname.',
    appliesTo: isDeploymentLike,
    run: (o) => {
      const { found, replicas } = replicasOf(o);
      if (!found || replicas < 2) return [];
      const t = podTemplateOf(o);
      if (!t) return [];
      const anti = t.spec.affinity?.podAntiAffinity;
      const plural = replicas > 1 ? 'replicas' : 'replica';
      if (!anti || typeof anti !== 'object') return [`object has ${replicas} ${plural} but does not specify inter pod anti-affinity`];
      const preferred = arr(anti.preferredDuringSchedulingIgnoredDuringExecution).map((p) => rec(p.podAffinityTerm));
      const required = arr(anti.requiredDuringSchedulingIgnoredDuringExecution);
      if (preferred.length === 0 && required.length === 0) {
        return [`object has ${replicas} ${plural} but does not specify preferred or required inter pod anti-affinity during scheduling`];
      }
      const podNamespace = str(t.metadata.namespace);
      const podLabels = labelsOf(t);
      const problems: string[] = [];
      for (const term of [...preferred, ...required]) {
        const namespaces = arr<string>(term.namespaces);
        if (namespaces.length > 0 && !namespaces.includes(podNamespace)) {
          problems.push(`pod's namespace "${podNamespace}" not found in anti-affinity's namespaces [${namespaces.join(', ')}]`);
          continue;
        }
        const compiled = compileSelector(term.labelSelector);
        if (compiled.error !== undefined) { problems.push(compiled.error); continue; }
        if (term.topologyKey !== 'kubernetes.io/hostname') { problems.push(`anti-affinity's topology key does not match "${str(term.topologyKey)}"`); continue; }
        if (!compiled.matches(podLabels)) {
          problems.push(`pod's labels "${JSON.stringify(podLabels)}" do not match with anti-affinity's labels "${selectorString(term.labelSelector)}"`);
          continue;
        }
        return [];
      }
      return problems;
    },
  },
  // no-extensions-v1beta: no object may use a deprecated extensions*/v1beta* API version.
  {
    name: 'no-extensions-v1beta',
    remediation: 'Migrate to the apps/v1 (or other GA) API versions for the objects.',
    appliesTo: () => true,
    run: (o) => {
      const g = gvkOf(o);
      return /extensions/.test(g.group) && /v1beta.+/.test(g.version) ? [`disallowed API object found: ${gvkString(g)}`] : [];
    },
  },
  // no-read-only-root-fs: every container must set securityContext.readOnlyRootFilesystem: true.
  {
    name: 'no-read-only-root-fs',
    remediation: 'Set readOnlyRootFilesystem to true in the container securityContext.',
    appliesTo: isDeploymentLike,
    run: perContainer((c) => (c.securityContext?.readOnlyRootFilesystem === true ? [] : [`container "${str(c.name)}" does not have a read-only root file system`])),
  },
  // non-existent-service-account: a pod's service account (other than default) must be a ServiceAccount in the same set and namespace.
  {
    name: 'non-existent-service-account',
    remediation: 'Create the missing service account, or refer to an existing service account.',
    appliesTo: isDeploymentLike,
    run: (o, objects) => {
      const t = podTemplateOf(o);
      if (!t) return [];
      const sa = str(t.spec.serviceAccountName) || str(t.spec.serviceAccount);
      if (sa === '' || sa === 'default') return [];
      const ns = namespaceOf(o);
      const exists = objects.some((x) => isServiceAccount(x) && namespaceOf(x) === ns && nameOf(x) === sa);
      return exists ? [] : [`serviceAccount "${sa}" not found`];
    },
  },
  // pdb-max-unavailable: a policy/v1 PDB must not set maxUnavailable to 0 (or 0%).
  {
    name: 'pdb-max-unavailable',
    remediation: 'Change the PodDisruptionBudget to have maxUnavailable set to a value greater than 0.',
    appliesTo: isPdbV1,
    run: (pdb) => {
      const raw: unknown = pdb.spec?.maxUnavailable;
      if (raw === undefined || raw === null) return [];
      const v = intOrPercent(raw, false);
      if ('error' in v) return [`maxUnavailable has invalid value [${String(raw)}]`];
      return v.value === 0 ? ['MaxUnavailable is set to 0'] : [];
    },
  },
  // pdb-min-available: a policy/v1 PDB's minAvailable must be below the replicas (or HPA/ScaledObject minimum) of every workload it selects, and never 100%.
  {
    name: 'pdb-min-available',
    remediation: 'Change the PodDisruptionBudget to have minAvailable set to a number lower than the number of replicas in the related deployment-like objects.',
    appliesTo: isPdbV1,
    run: (pdb, objects) => {
      const raw: unknown = pdb.spec?.minAvailable;
      if (raw === undefined || raw === null) return [];
      const v = intOrPercent(raw, true);
      if ('error' in v) return [`PDB has invalid MinAvailable value: ${v.error}`];
      if (v.percent && v.value === 100) return ['PDB has minimum available replicas set to 100 percent of replicas'];
      // kube-linter dereferences the selector unconditionally; an absent policy/v1 selector selects no pods.
      if (!pdb.spec?.selector) return [];
      const compiled = compileSelector(pdb.spec.selector);
      if (compiled.error !== undefined) return [`PDB has invalid label selector: ${compiled.error}`];
      const ns = namespaceOf(pdb);
      const mins = minReplicasByTarget(objects, ns);
      const out: string[] = [];
      for (const o of objects) {
        if (!isDeploymentLike(o) || namespaceOf(o) !== ns) continue;
        const { found, selector } = selectorOf(o);
        if (!found) continue;
        const derived = selectorAsLabels(selector);
        if ('error' in derived) {
          return [`Failed to retrieve deployments matching the PDB's label selector within namespace ${ns}: ${derived.error}`];
        }
        if (!compiled.matches(derived.labels)) continue;
        let replicas = replicasOf(o).replicas;
        if (replicas === 1 && mins.has(nameOf(o))) replicas = mins.get(nameOf(o)) as number;
        const minAvailable = v.percent ? Math.ceil(replicas * (v.value / 100)) : v.value;
        if (replicas <= minAvailable) {
          out.push(`The current number of replicas for deployment ${nameOf(o)} is equal to or lower than the minimum number of replicas specified by its PDB.`);
        }
      }
      return out;
    },
  },
  // pdb-unhealthy-pod-eviction-policy: a policy/v1 PDB must set spec.unhealthyPodEvictionPolicy explicitly.
  {
    name: 'pdb-unhealthy-pod-eviction-policy',
    remediation: 'Set unhealthyPodEvictionPolicy to AlwaysAllow (see https://kubernetes.io/docs/tasks/run-application/configure-pdb/#unhealthy-pod-eviction-policy).',
    appliesTo: isPdbV1,
    run: (pdb) => (pdb.spec?.unhealthyPodEvictionPolicy === undefined || pdb.spec?.unhealthyPodEvictionPolicy === null
      ? ['unhealthyPodEvictionPolicy is not explicitly set'] : []),
  },
  // privilege-escalation-container: no container may set allowPrivilegeEscalation: true, privileged: true, or add SYS_ADMIN.
  {
    name: 'privilege-escalation-container',
    remediation: 'Ensure containers do not allow privilege escalation by setting allowPrivilegeEscalation=false, privileged=false and removing CAP_SYS_ADMIN capability.',
    appliesTo: isDeploymentLike,
    run: perContainer((c) => {
      const sc = c.securityContext;
      if (!sc || typeof sc !== 'object') return [];
      const name = str(c.name);
      if (sc.allowPrivilegeEscalation === true) return [`container "${name}" has AllowPrivilegeEscalation set to true.`];
      if (sc.privileged === true) return [`container "${name}" is Privileged hence allows privilege escalation.`];
      if (arr<unknown>(sc.capabilities?.add).some((cap) => cap === 'SYS_ADMIN')) return [`container "${name}" has SYS_ADMIN capability hence allows privilege escalation.`];
      return [];
    }),
  },
  // privileged-container: no container may run privileged.
  {
    name: 'privileged-container',
    remediation: 'Do not run your container as privileged unless it is required.',
    appliesTo: isDeploymentLike,
    run: perContainer((c) => (c.securityContext?.privileged === true ? [`container "${str(c.name)}" is privileged`] : [])),
  },
  // readiness-port: a container's readiness probe must target a TCP port the container exposes.
  {
    name: 'readiness-port',
    remediation: "Check which ports you've exposed and ensure they match what you have specified in the readiness probe.",
    appliesTo: isDeploymentLike,
    run: perRegularContainer((c) => probePortProblems(c, c.readinessProbe)),
  },
  // run-as-non-root: every container must run as non-root: runAsUser > 0, or runAsNonRoot: true without runAsUser 0 (container settings override pod ones).
  {
    name: 'run-as-non-root',
    remediation: 'Set runAsUser to a non-zero number and runAsNonRoot to true in your pod or container securityContext.',
    appliesTo: isDeploymentLike,
    run: (o) => {
      const t = podTemplateOf(o);
      if (!t) return [];
      const podSc = rec(t.spec.securityContext);
      return allContainers(t.spec).flatMap((c) => {
        const sc = rec(c.securityContext);
        const user = typeof sc.runAsUser === 'number' ? sc.runAsUser : typeof podSc.runAsUser === 'number' ? podSc.runAsUser : undefined;
        if (user !== undefined && user > 0) return [];
        const nonRoot = typeof sc.runAsNonRoot === 'boolean' ? sc.runAsNonRoot : podSc.runAsNonRoot === true;
        if (nonRoot) return user === 0 ? [`container "${str(c.name)}" is set to runAsNonRoot, but runAsUser set to 0`] : [];
        return [`container "${str(c.name)}" is not set to runAsNonRoot`];
      });
    },
  },
  // sensitive-host-mounts: no container may mount /, /boot, /dev, /etc, /lib, /proc, /sys or /usr from the host.
  {
    name: 'sensitive-host-mounts',
    remediation: 'Ensure sensitive host system directories are not mounted in containers by removing those Volumes and VolumeMounts.',
    appliesTo: isDeploymentLike,
    run: hostMounts(SENSITIVE_HOST_DIRS),
  },
  // ssh-port: no container may expose TCP port 22.
  {
    name: 'ssh-port',
    remediation: 'Ensure that non-SSH services are not using port 22. Confirm that any actual SSH servers have been vetted.',
    appliesTo: isDeploymentLike,
    run: perContainer((c) => arr(c.ports).flatMap((p) => {
      const protocol = str(p.protocol) || 'TCP';
      return p.containerPort === 22 && /TCP/.test(protocol) ? [`port 22 and protocol ${protocol} in container "${str(c.name)}" found`] : [];
    })),
  },
  // startup-port: a container's startup probe must target a TCP port the container exposes.
  {
    name: 'startup-port',
    remediation: "Check which ports you've exposed and ensure they match what you have specified in the startup probe.",
    appliesTo: isDeploymentLike,
    run: perRegularContainer((c) => probePortProblems(c, c.startupProbe)),
  },
  // unsafe-sysctls: the pod securityContext must not set sysctls under kernel.msg, kernel.sem, kernel.shm, fs.mqueue. or net.
  {
    name: 'unsafe-sysctls',
    remediation: 'Ensure the pod does not allow unsafe allocation of system resources by removing unsafe sysctls configurations.',
    appliesTo: isDeploymentLike,
    run: (o) => {
      const t = podTemplateOf(o);
      if (!t) return [];
      return arr(t.spec.securityContext?.sysctls).flatMap((s) => UNSAFE_SYSCTL_PREFIXES
        .filter((prefix) => str(s.name).startsWith(prefix))
        .map(() => `${nameOf(o)} has unsafe allocation to resource ${str(s.name)}.`));
    },
  },
  // unset-cpu-requirements: every container must set a non-zero CPU request.
  {
    name: 'unset-cpu-requirements',
    remediation: 'Set CPU requests for your container based on its requirements.',
    appliesTo: isDeploymentLike,
    run: resourceCheck('cpu', 'requests'),
  },
  // unset-memory-requirements: every container must set a non-zero memory limit.
  {
    name: 'unset-memory-requirements',
    remediation: 'Set memory limits for your container based on its requirements.',
    appliesTo: isDeploymentLike,
    run: resourceCheck('memory', 'limits'),
  },
  // job-ttl-seconds-after-finished (built-in since June 2025, enforced to stay safe against newer defaults): a standalone Job must set ttlSecondsAfterFinished; a CronJob's job template must not.
  {
    name: 'job-ttl-seconds-after-finished',
    remediation: 'Set Job.spec.ttlSecondsAfterFinished. Unset CronJob.spec.jobTemplate.spec.ttlSecondsAfterFinished.',
    appliesTo: isJobLike,
    run: (o) => {
      if (o.kind === 'Job') {
        const ttl = o.spec?.ttlSecondsAfterFinished;
        return ttl === undefined || ttl === null ? ['Standalone Job does not specify ttlSecondsAfterFinished'] : [];
      }
      const ttl = o.spec?.jobTemplate?.spec?.ttlSecondsAfterFinished;
      return ttl === undefined || ttl === null ? [] : ['Managed Job specifies ttlSecondsAfterFinished which might conflict with successfulJobsHistoryLimit and failedJobsHistoryLimit from CronJob'];
    },
  },
];

/** Names of every check this port runs (kube-linter's default checks, see docs/kubelint.md). */
export const CHECK_NAMES: readonly string[] = CHECKS.map((c) => c.name);

// ---------------------------------------------------------------------------------------------------------------
// Exemptions and the entry points.
// ---------------------------------------------------------------------------------------------------------------

const hasReason = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';

/** Whether `annotations` exempt their object from `check` with a documented reason. */
function exempted(annotations: Record<string, unknown>, check: string): boolean {
  return hasReason(annotations[IGNORE_ALL_ANNOTATION]) || hasReason(annotations[IGNORE_CHECK_PREFIX + check]);
}

/** Runs every implemented kube-linter default check over the whole set of objects and returns all findings. */
export function lintObjects(objects: readonly unknown[]): Finding[] {
  const all = objects.filter((o): o is Obj => !!o && typeof o === 'object' && !Array.isArray(o));
  const findings: Finding[] = [];
  for (const o of all) {
    const kind = str(o.kind);
    const name = nameOf(o);
    const annotations = rec(o.metadata?.annotations);
    for (const [key, value] of Object.entries(annotations)) {
      if ((key.startsWith(IGNORE_CHECK_PREFIX) || key === IGNORE_ALL_ANNOTATION) && !hasReason(value)) {
        findings.push({
          check: UNDOCUMENTED_EXEMPTION, kind, name,
          message: `exemption annotation "${key}" has no reason, so it exempts nothing`,
          remediation: 'Give the annotation a non-empty value explaining why the check does not apply to this object, or remove it.',
        });
      }
    }
    for (const check of CHECKS) {
      if (!check.appliesTo(o) || exempted(annotations, check.name)) continue;
      for (const message of check.run(o, all)) findings.push({ check: check.name, kind, name, message, remediation: check.remediation });
    }
  }
  return findings;
}

/** Human-readable list of findings, one per line, in kube-linter's style. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.kind}/${f.name}: ${f.message} (check: ${f.check}, remediation: ${f.remediation})`).join('\n');
}

/** Throws listing every finding when `objects` fail any kube-linter default check. */
export function expectLintClean(objects: readonly unknown[]): void {
  const findings = lintObjects(objects);
  if (findings.length > 0) {
    throw new Error(
      `kube-linter default checks: ${findings.length} finding(s); fix them, or exempt the object with an annotation ` +
      `"${IGNORE_CHECK_PREFIX}<check>: <reason>":\n${formatFindings(findings)}`,
    );
  }
}
