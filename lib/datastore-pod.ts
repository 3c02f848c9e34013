import { ApiObject, JsonPatch } from 'cdk8s';
import type { Construct } from 'constructs';
import { Problems, recordErrors } from './core/problems';
import { isRecord } from './core/rules';
import { annotationMap, nameList, podLabelMap, WorkloadPodProps } from './workloads/pod-props';

/**
 * Issue 17's pod-level props on the datastores (PostgresCluster, RedisHA, RpcPool): pull secrets, pod annotations
 * and pod labels on every pod the construct runs. Applied once at the end of the construct's constructor, as JSON
 * patches on its workloads, so the datastores' own rendering stays untouched.
 */
export type DatastorePodProps = Pick<WorkloadPodProps, 'imagePullSecrets' | 'podAnnotations' | 'podLabels'>;

const WORKLOAD_KINDS: Record<string, string> = {
  Deployment: '/spec/template', StatefulSet: '/spec/template', DaemonSet: '/spec/template', Job: '/spec/template',
  CronJob: '/spec/jobTemplate/spec/template',
};
/** Label keys the datastores, their agents (Patroni's role label) and the controllers own on pods. */
const RESERVED_LABEL = /^(app\.kubernetes\.io\/|scalecharts\.io\/|batch\.kubernetes\.io\/|statefulset\.kubernetes\.io\/|apps\.kubernetes\.io\/)|^(pod-template-hash|controller-revision-hash|controller-uid|job-name)$/;
const RESERVED_ANNOTATION = /^scalecharts\.io\//;

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Validates the props (errors reported at synth with the construct's others) and patches every pod template under `construct`. */
export function applyDatastorePodProps(construct: Construct, props: DatastorePodProps | undefined): void {
  // Nothing given, nothing to read: the construct's objects are not serialized ahead of synth.
  if (!isRecord(props) || (props.imagePullSecrets === undefined && props.podAnnotations === undefined && props.podLabels === undefined)) return;
  const p = new Problems(construct);
  const pullSecrets = nameList(p, 'imagePullSecrets', props.imagePullSecrets);
  const annotations = annotationMap(p, 'podAnnotations', props.podAnnotations);
  for (const key of Object.keys(annotations)) {
    if (RESERVED_ANNOTATION.test(key)) p.add(`podAnnotations.${key}`, annotations[key], 'sets an annotation scalecharts computes (scalecharts.io/*); pick another key');
  }
  const workloads = construct.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && c.kind in WORKLOAD_KINDS);
  const templates = workloads.map((o) => {
    const json = o.toJson() as Record<string, unknown>;
    const template = WORKLOAD_KINDS[o.kind].split('/').slice(1).reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), json);
    return { o, at: WORKLOAD_KINDS[o.kind], template: (isRecord(template) ? template : {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { imagePullSecrets?: unknown[] } } };
  });
  const reserved: Record<string, string> = {};
  for (const { template } of templates) Object.assign(reserved, template.metadata?.labels ?? {});
  for (const key of Object.keys(isRecord(props.podLabels) ? props.podLabels : {})) if (RESERVED_LABEL.test(key) && !(key in reserved)) reserved[key] = '';
  const labels = podLabelMap(p, 'podLabels', props.podLabels, reserved);
  if (!p.ok) {
    recordErrors(construct, p.errors);
    return;
  }
  for (const { o, at, template } of templates) {
    // Key by key where the map or list exists, so values the construct resolves later (at synth) stay live.
    if (pullSecrets.length && template.spec?.imagePullSecrets) {
      for (const name of pullSecrets) o.addJsonPatch(JsonPatch.add(`${at}/spec/imagePullSecrets/-`, { name }));
    } else if (pullSecrets.length) {
      o.addJsonPatch(JsonPatch.add(`${at}/spec/imagePullSecrets`, pullSecrets.map((name) => ({ name }))));
    }
    for (const [k, v] of Object.entries(labels)) o.addJsonPatch(JsonPatch.add(`${at}/metadata/labels/${escape(k)}`, v));
    if (template.metadata?.annotations) {
      // Over the preset's annotations, as on the application workloads.
      for (const [k, v] of Object.entries(annotations)) o.addJsonPatch(JsonPatch.add(`${at}/metadata/annotations/${escape(k)}`, v));
    } else if (Object.keys(annotations).length) {
      o.addJsonPatch(JsonPatch.add(`${at}/metadata/annotations`, annotations));
    }
  }
}
