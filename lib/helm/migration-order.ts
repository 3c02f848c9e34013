/**
 * Migrations against a database of the same chart. A migration hook (Argo CD PreSync → Helm pre-install) runs before
 * anything of the release exists, so on a first install it would connect to a Service that isn't there yet. The
 * chart writer finds the in-chart Services a hook's pod names as database hosts (env vars named like one, or connection
 * URLs: `PGHOST=orders-db-pooler`, `redis://cache:6379`),
 * runs the hook `post-install,pre-upgrade` instead, and gives its pod one init container per such Service that
 * waits until the Service accepts connections (lib/helm/wait-for.sh, in the image of the pods behind the Service).
 * On upgrade the hook still runs before any new pod: `pre-upgrade`.
 *
 * Plain manifests: the construct makes such a migration an Argo CD Sync hook in a wave after the database
 * (lib/workloads/argo-order.ts); tools that apply everything at once don't order it, and
 * {@link migrationOrderWarnings} says so at synth.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import type { Chart } from 'cdk8s';
import type { CollectedObject, Json } from './collect';
import { NameIndex, NamedObject, releaseName, rewriteText } from './names';

/** Argo CD's annotations: a hook's phase, and the sync wave of a hook or an object. */
export const ARGO_HOOK = 'argocd.argoproj.io/hook';
export const ARGO_SYNC_WAVE = 'argocd.argoproj.io/sync-wave';
/** Argo CD phases of a migration hook: PreSync, or Sync in a wave after an in-chart database (lib/workloads/argo-order.ts). */
const MIGRATION_PHASES: readonly unknown[] = ['PreSync', 'Sync'];

/** An in-chart Service a hook waits for, and the workload whose pods serve it (whose image runs the wait). */
export interface WaitFor {
  readonly service: CollectedObject;
  readonly port: number;
  readonly workload: CollectedObject;
}

let script: string | undefined;
/** The wait script, as shipped beside this module. */
export function waitForScript(): string {
  script ??= readFileSync(join(__dirname, 'wait-for.sh'), 'utf8');
  return script;
}

/** Strings of a pod's containers where a host name may appear: env values, commands, args. */
function podTexts(pod: Json): string[] {
  const out: string[] = [];
  for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
    for (const e of c.env ?? []) if (typeof e.value === 'string') out.push(`${e.name}\u0000${e.value}`);
    for (const s of [...(c.command ?? []), ...(c.args ?? [])]) if (typeof s === 'string') out.push(`\u0000${s}`);
  }
  return out;
}

/** Env vars that name a database: `PGHOST`, `DATABASE_URL`, `REDIS_SENTINELS`… (an API's URL is not one). */
const DATABASE_ENV = /(^PG|DB|DATABASE|POSTGRES|REDIS|SENTINEL|MYSQL|MONGO|SQL)/i;
/** Values that name a database whatever the variable: a connection URL. */
const DATABASE_URL = /^(postgres(ql)?|redis|rediss|mysql|mongodb(\+srv)?):\/\//;

/** In-chart Services the pod of `o` names as database hosts (by the chart writer's own host rules). */
export function hostServices(o: CollectedObject, objects: readonly CollectedObject[], namespace: string | undefined): CollectedObject[] {
  const named: NamedObject[] = objects.map((x) => ({ kind: x.kind, name: x.name, parts: releaseName(x.name) }));
  const index = new NameIndex(named, namespace);
  const found = new Set<string>();
  for (const text of podTexts(o.json.spec?.template?.spec)) {
    const [envName, value] = text.split('\u0000');
    if (!DATABASE_ENV.test(envName) && !DATABASE_URL.test(value)) continue;
    rewriteText(value, index, { envName: envName || undefined, onReference: (r) => { if (r.kind === 'Service') found.add(r.name); } });
  }
  return objects.filter((x) => x.kind === 'Service' && found.has(x.name));
}

/**
 * The Services among `serviceNames` (a chart's) that a pod spec names as database hosts: the same rules as
 * {@link hostServices}, for a construct deciding at synth how Argo CD orders its migration (lib/workloads/argo-order.ts).
 */
export function databaseServicesNamed(podSpec: Json, serviceNames: readonly string[], namespace: string | undefined): string[] {
  const job = { kind: 'Job', name: '', apiVersion: 'batch/v1', json: { spec: { template: { spec: podSpec } } } } as unknown as CollectedObject;
  const services = serviceNames.map((name) => ({ kind: 'Service', name, apiVersion: 'v1', json: {} }) as unknown as CollectedObject);
  return hostServices(job, services, namespace).map((s) => s.name);
}

/** The workload whose pod template labels a Service's selector matches. */
function servedBy(service: CollectedObject, objects: readonly CollectedObject[]): CollectedObject | undefined {
  const selector: Record<string, string> | undefined = service.json.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return undefined;
  return objects.find((o) => {
    const labels = o.json.spec?.template?.metadata?.labels;
    return ['Deployment', 'StatefulSet'].includes(o.kind) && labels && Object.entries(selector).every(([k, v]) => labels[k] === v);
  });
}

/** What each migration hook of the chart must wait for. */
export function hookWaits(objects: readonly CollectedObject[], namespace: string | undefined): Map<CollectedObject, WaitFor[]> {
  const out = new Map<CollectedObject, WaitFor[]>();
  for (const o of objects) {
    if (o.kind !== 'Job' || !MIGRATION_PHASES.includes(o.json.metadata?.annotations?.[ARGO_HOOK])) continue;
    const waits = hostServices(o, objects, namespace).flatMap((service) => {
      const workload = servedBy(service, objects);
      const port = service.json.spec?.ports?.[0]?.port;
      return workload && typeof port === 'number' ? [{ service, port, workload }] : [];
    });
    if (waits.length > 0) out.set(o, waits);
  }
  return out;
}

/** The init container (plain JSON, before release names are applied) that waits for `w`. */
export function waitContainer(w: WaitFor, hookPod: Json): Json {
  const main = hookPod.containers?.[0] ?? {};
  const image = w.workload.json.spec.template.spec.containers[0].image;
  return {
    name: `wait-for-${w.service.name}`.slice(0, 63).replace(/-+$/, ''),
    image,
    imagePullPolicy: main.imagePullPolicy ?? 'IfNotPresent',
    command: ['sh', '-c', waitForScript()],
    env: [{ name: 'WAIT_HOST', value: w.service.name }, { name: 'WAIT_PORT', value: String(w.port) }],
    // The hook's own hardening; a shell loop needs little.
    ...(main.securityContext ? { securityContext: main.securityContext } : {}),
    resources: { requests: { cpu: '10m', memory: '16Mi', 'ephemeral-storage': '1Mi' }, limits: { cpu: '100m', memory: '32Mi', 'ephemeral-storage': '8Mi' } },
  };
}

/**
 * Synth-time warnings for plain manifests: migrations whose database is in the same chart. Argo CD orders them by sync
 * waves (lib/workloads/argo-order.ts); a tool that applies everything at once (kubectl apply, Flux) does not, so the
 * order is guaranteed only there and in the Helm chart (see the module comment).
 */
export function migrationOrderWarnings(chart: Chart): string[] {
  const jsons: Json[] = chart.toJson();
  const objects = jsons.map((json) => ({ json, kind: json.kind, name: json.metadata?.name, apiVersion: json.apiVersion }) as unknown as CollectedObject);
  const namespace = jsons.find((j) => j.metadata?.namespace)?.metadata?.namespace;
  return [...hookWaits(objects, namespace)].map(([job, waits]) =>
    `${chart.node.id}: Job ${job.name} connects to ${waits.map((w) => `Service ${w.service.name}`).join(', ')} of the same chart. `
    + 'Argo CD orders it by sync waves (the database in wave 0, the migration a Sync hook in wave 1, the new pods in wave 2); '
    + 'a tool that applies everything at once (kubectl apply, Flux) does not: the migration then fails until the database is up. '
    + 'Apply the database first there, or install with the Helm chart, whose hook waits for it (post-install,pre-upgrade).');
}
