/**
 * The real API server as a judge of our output: server-side dry run (`dryRun=All`, `fieldValidation=Strict`) of
 * every object, plus every pod template as a bare Pod (Pod Security only warns on controllers, it refuses Pods).
 * Any rejection and any `Warning` header not explicitly allowed (with a reason) is a problem.
 */
import * as fs from 'fs';
import * as yaml from 'js-yaml';
import { crdFiles } from '../../scripts/gen-schemas';
import type { ApiResponse, ControlPlane } from './control-plane';
import type { K8sObject } from './synth';

/**
 * Installs, for real, the CRDs we emit objects of (KEDA v2.16.1, Prometheus Operator v0.85.0: the files the schema
 * generator reads) and waits until each is Established. Returns their names.
 */
export async function installCrds(cp: ControlPlane): Promise<string[]> {
  const crds = (await crdFiles()).flatMap((f) => yaml.loadAll(fs.readFileSync(f, 'utf8')) as K8sObject[])
    .filter((d) => d?.kind === 'CustomResourceDefinition');
  for (const crd of crds) {
    const r = await cp.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (r.status !== 201) throw new Error(`CRD ${crd.metadata.name}: HTTP ${r.status} ${r.body?.message}`);
  }
  for (const crd of crds) {
    for (let i = 0; ; i++) {
      const r = await cp.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      if (r.body.status?.conditions?.some((c: K8sObject) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 400) throw new Error(`CRD ${crd.metadata.name} not Established after 20 s`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  return crds.map((c) => c.metadata.name);
}

/** The API versions the CRDs of installCrds serve, for `helm template --api-versions` (a cluster with them). */
export const CRD_API_VERSIONS = ['monitoring.coreos.com/v1', 'keda.sh/v1alpha1'];

interface Resource {
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Resource names by `apiVersion kind`, from the API server's discovery (refresh after installing CRDs). */
export class ApiResources {
  private readonly byKind = new Map<string, Resource>();

  private constructor(private readonly cp: ControlPlane) {}

  static async discover(cp: ControlPlane): Promise<ApiResources> {
    const r = new ApiResources(cp);
    await r.refresh();
    return r;
  }

  async refresh(): Promise<void> {
    this.byKind.clear();
    const groupVersions = ['v1'];
    const groups = await this.get('/apis');
    for (const g of groups.groups) for (const v of g.versions) groupVersions.push(v.groupVersion);
    await Promise.all(groupVersions.map(async (gv) => {
      const list = await this.get(gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
      for (const res of list.resources) {
        if (res.name.includes('/')) continue; // subresources
        this.byKind.set(`${gv} ${res.kind}`, { plural: res.name, namespaced: res.namespaced });
      }
    }));
  }

  /** The collection path objects of this kind are created at. Throws for a kind the server doesn't serve. */
  collectionPath(apiVersion: string, kind: string, namespace?: string): string {
    const res = this.byKind.get(`${apiVersion} ${kind}`);
    if (!res) throw new Error(`the API server serves no ${apiVersion} ${kind} (CRD not installed?)`);
    const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return res.namespaced ? `${prefix}/namespaces/${namespace}/${res.plural}` : `${prefix}/${res.plural}`;
  }

  namespaced(apiVersion: string, kind: string): boolean {
    return this.byKind.get(`${apiVersion} ${kind}`)?.namespaced ?? true;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async get(p: string): Promise<any> {
    const r = await this.cp.request('GET', p);
    if (r.status !== 200) throw new Error(`discovery ${p}: HTTP ${r.status}`);
    return r.body;
  }
}

/** Creates `obj` in `namespace` (its own metadata.namespace is replaced), by default as a strict dry run. */
export async function createObject(cp: ControlPlane, api: ApiResources, obj: K8sObject, namespace: string,
  opts: { dryRun?: boolean } = {}): Promise<ApiResponse> {
  const namespaced = api.namespaced(obj.apiVersion, obj.kind);
  const body = { ...obj, metadata: { ...obj.metadata } };
  if (namespaced) body.metadata.namespace = namespace;
  else delete body.metadata.namespace;
  return cp.request('POST', api.collectionPath(obj.apiVersion, obj.kind, namespace), body, {
    query: { fieldValidation: 'Strict', dryRun: opts.dryRun === false ? undefined : 'All' },
  });
}

/** The pod template of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob), if any. */
export function podTemplateOf(o: K8sObject): K8sObject | undefined {
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController'].includes(o.kind)) {
    return o.spec?.template;
  }
  return undefined;
}

/** Stand-ins for the hashes controllers put into names and labels, at their real lengths. */
const TEMPLATE_HASH = '5d4f8b7c9d';
const CONTROLLER_UID = '0b6c7f8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
/** A CronJob's Job is named `<cronjob>-<scheduled time in minutes>`: 8 digits until the year 2160. */
const CRONJOB_SUFFIX = '29400000';

/** The name the API server makes of a `generateName`: the prefix cut to 58 characters, plus 5 random ones. */
function generatedName(prefix: string): string {
  return `${prefix.slice(0, 58)}x7k2q`;
}

/**
 * The bare Pod a workload's controller would create: its template, with what the controller adds that the API
 * server validates (the names and labels derived from the workload's name: a StatefulSet pod's hostname,
 * subdomain, `controller-revision-hash` and pod-name labels; a Deployment pod's `pod-template-hash`; a Job pod's
 * job-name labels, with a CronJob's Job name). A StatefulSet's `volumeClaimTemplates` become PVC volumes
 * (`<claim>-<name>-0`, the name the controller gives them), or the template's mounts would name missing volumes.
 */
export function podOf(o: K8sObject): K8sObject | undefined {
  const template = podTemplateOf(o);
  if (!template) return undefined;
  const spec = structuredClone(template.spec);
  const metadata = structuredClone(template.metadata ?? {});
  const name: string = o.metadata.name;
  const labels: Record<string, string> = { ...metadata.labels };
  let podName = generatedName(`${name}-${TEMPLATE_HASH}-`);
  if (o.kind === 'StatefulSet') {
    podName = `${name}-0`;
    spec.hostname = podName;
    if (o.spec.serviceName) spec.subdomain = o.spec.serviceName;
    Object.assign(labels, {
      'controller-revision-hash': `${name}-${TEMPLATE_HASH}`,
      'statefulset.kubernetes.io/pod-name': podName,
      'apps.kubernetes.io/pod-index': '0',
    });
    for (const claim of o.spec.volumeClaimTemplates ?? []) {
      spec.volumes = [...(spec.volumes ?? []), {
        name: claim.metadata.name,
        persistentVolumeClaim: { claimName: `${claim.metadata.name}-${name}-0` },
      }];
    }
  } else if (o.kind === 'Deployment' || o.kind === 'ReplicaSet' || o.kind === 'DaemonSet') {
    labels[o.kind === 'DaemonSet' ? 'controller-revision-hash' : 'pod-template-hash'] = TEMPLATE_HASH;
  } else if (o.kind === 'Job' || o.kind === 'CronJob') {
    const job = o.kind === 'CronJob' ? `${name}-${CRONJOB_SUFFIX}` : name;
    podName = generatedName(`${job}-`);
    Object.assign(labels, {
      'batch.kubernetes.io/job-name': job, 'job-name': job,
      'batch.kubernetes.io/controller-uid': CONTROLLER_UID, 'controller-uid': CONTROLLER_UID,
    });
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata, name: podName, labels }, spec };
}

/** A `Warning` the judge tolerates, with the reason it is not our defect. */
export interface AllowedWarning {
  readonly pattern: RegExp;
  readonly reason: string;
}

export interface JudgeResult {
  /** Objects dry-run (not counting the bare Pods). */
  readonly objects: number;
  /** Bare Pods dry-run (one per pod template). */
  readonly pods: number;
  /** One line per rejection or unexpected warning: `Kind/name: HTTP 422 ...` / `Kind/name: warning ...`. */
  readonly problems: string[];
  /** Warnings seen that an AllowedWarning matched (for the report). */
  readonly allowed: string[];
}

/**
 * Dry-runs every object into `namespace` (which must exist with its `default` ServiceAccount), then each pod
 * template as a bare Pod. ServiceAccounts and PriorityClasses are also created for real before the Pods, since the
 * Pod admission looks them up.
 */
export async function judgeObjects(cp: ControlPlane, api: ApiResources, objects: readonly K8sObject[],
  namespace: string, allowedWarnings: readonly AllowedWarning[] = []): Promise<JudgeResult> {
  const problems: string[] = [];
  const allowed: string[] = [];
  const check = (what: string, r: ApiResponse, expected: number) => {
    if (r.status !== expected) {
      problems.push(`${what}: HTTP ${r.status} ${r.body?.message ?? JSON.stringify(r.body)}`);
    }
    for (const w of r.warnings) {
      if (allowedWarnings.some((a) => a.pattern.test(w))) allowed.push(`${what}: ${w}`);
      else problems.push(`${what}: warning: ${w}`);
    }
  };
  const label = (o: K8sObject) => `${o.kind}/${o.metadata?.name}`;

  await Promise.all(objects.map(async (o) => check(label(o), await createObject(cp, api, o, namespace), 201)));
  // What Pod admission looks up must exist for real; cluster-scoped ones may already exist from an earlier run.
  for (const o of objects.filter((x) => x.kind === 'ServiceAccount' || x.kind === 'PriorityClass')) {
    const r = await createObject(cp, api, o, namespace, { dryRun: false });
    if (r.status !== 201 && r.status !== 409) problems.push(`${label(o)} (real create): HTTP ${r.status} ${r.body?.message}`);
  }
  const pods = objects.flatMap((o) => {
    const p = podOf(o);
    return p ? [{ from: o, pod: p }] : [];
  });
  await Promise.all(pods.map(async ({ from, pod }) =>
    check(`Pod of ${label(from)}`, await createObject(cp, api, pod, namespace), 201)));
  return { objects: objects.length, pods: pods.length, problems, allowed };
}
