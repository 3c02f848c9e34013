/**
 * Argo CD ordering of a migration that needs objects of its own chart (plain manifests). A PreSync hook runs before
 * the sync applies anything, so on an app's first sync it would connect to a database that doesn't exist yet, or its
 * pod could not even be created (a ServiceAccount from `serviceAccount.create`, a mounted ConfigMap or Secret of the
 * chart). When the migration's pod names an in-chart Service as a database host, or references an in-chart object by
 * name, the migration becomes a Sync hook in wave 1 and the service's Deployment, HPA and Ingress move to wave 2: Argo
 * CD applies wave 0 (the database and those objects among the rest) and waits until it is healthy (a Patroni member
 * is Ready only once it leads or streams), then runs the migration and waits for it to succeed, then rolls out the new
 * pods. Otherwise the migration stays a PreSync hook (nothing of a failed upgrade is applied) and nothing gets a wave.
 * The Helm chart writer maps both to Helm hooks (lib/helm/templates.ts), by the same reference rules.
 *
 * The decision is lazy (resolved at synth): wiring such as connectPostgres adds the database env after construction.
 */
import { ApiObject, Chart, Lazy } from 'cdk8s';
import type { Construct } from 'constructs';
import { ARGO_HOOK, ARGO_SYNC_WAVE, databaseServicesNamed } from '../helm/migration-order';
import { structuralReferences } from '../helm/names';

/** Sync wave of a migration that waits for an in-chart database or other objects of wave 0. */
export const MIGRATION_WAVE = '1';
/** Sync wave of what must start after that migration: the new pods and what scales or exposes them. */
export const AFTER_MIGRATION_WAVE = '2';

/**
 * What of `scope`'s chart the pod spec needs before it can run: `Service/<name>` for each Service it names as a database
 * host, `<Kind>/<name>` for each object it references by name (ServiceAccount, ConfigMap, Secret, claim…).
 */
export function inChartDependencies(scope: Construct, podSpec: object): string[] {
  const chart = Chart.of(scope);
  const objects = chart.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c));
  const keys = new Set(objects.map((o) => `${o.kind}/${o.name}`));
  const services = objects.filter((o) => o.kind === 'Service').map((s) => s.name);
  const databases = databaseServicesNamed(podSpec, services, chart.namespace).map((name) => `Service/${name}`);
  return [...new Set([...databases, ...structuralReferences(podSpec, (kind, name) => keys.has(`${kind}/${name}`))])];
}

/**
 * Orders a migration Job for Argo CD: its hook annotation, and the wave of the objects that must wait for it, resolved
 * at synth from what the Job's pod connects to.
 */
export function orderMigration(scope: Construct, job: ApiObject, podSpec: object, after: readonly (ApiObject | undefined)[]): void {
  const afterWaveZero = (): boolean => inChartDependencies(scope, podSpec).length > 0;
  job.metadata.addAnnotation(ARGO_HOOK, Lazy.any({ produce: () => (afterWaveZero() ? 'Sync' : 'PreSync') }));
  job.metadata.addAnnotation(ARGO_SYNC_WAVE, Lazy.any({ produce: () => (afterWaveZero() ? MIGRATION_WAVE : undefined) }));
  for (const o of after) {
    o?.metadata.addAnnotation(ARGO_SYNC_WAVE, Lazy.any({ produce: () => (afterWaveZero() ? AFTER_MIGRATION_WAVE : undefined) }));
  }
}
