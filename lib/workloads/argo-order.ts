/**
 * Argo CD ordering of a migration whose database is in the same chart (plain manifests). A PreSync hook runs before
 * the sync applies anything, so on an app's first sync it would connect to a database that doesn't exist yet. When the
 * migration's pod names an in-chart Service as a database host, the migration becomes a Sync hook in wave 1 and the
 * service's Deployment, HPA and Ingress move to wave 2: Argo CD applies wave 0 (the database among the rest) and waits
 * until it is healthy (a Patroni member is Ready only once it leads or streams), then runs the migration and waits for
 * it to succeed, then rolls out the new pods. Otherwise the migration stays a PreSync hook (nothing of a failed
 * upgrade is applied) and nothing gets a wave. The Helm chart writer maps both to Helm hooks (lib/helm/templates.ts).
 *
 * The decision is lazy (resolved at synth): wiring such as connectPostgres adds the database env after construction.
 */
import { ApiObject, Chart, Lazy } from 'cdk8s';
import type { Construct } from 'constructs';
import { ARGO_HOOK, ARGO_SYNC_WAVE, databaseServicesNamed } from '../helm/migration-order';

/** Sync wave of a migration that waits for an in-chart database (wave 0). */
export const MIGRATION_WAVE = '1';
/** Sync wave of what must start after that migration: the new pods and what scales or exposes them. */
export const AFTER_MIGRATION_WAVE = '2';

/** Names of the Services of `scope`'s chart that the pod spec names as database hosts. */
export function inChartDatabases(scope: Construct, podSpec: object): string[] {
  const chart = Chart.of(scope);
  const services = new Set(chart.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c) && c.kind === 'Service').map((s) => s.name));
  return databaseServicesNamed(podSpec, [...services], chart.namespace);
}

/**
 * Orders a migration Job for Argo CD: its hook annotation, and the wave of the objects that must wait for it, resolved
 * at synth from what the Job's pod connects to.
 */
export function orderMigration(scope: Construct, job: ApiObject, podSpec: object, after: readonly (ApiObject | undefined)[]): void {
  const afterDatabase = (): boolean => inChartDatabases(scope, podSpec).length > 0;
  job.metadata.addAnnotation(ARGO_HOOK, Lazy.any({ produce: () => (afterDatabase() ? 'Sync' : 'PreSync') }));
  job.metadata.addAnnotation(ARGO_SYNC_WAVE, Lazy.any({ produce: () => (afterDatabase() ? MIGRATION_WAVE : undefined) }));
  for (const o of after) {
    o?.metadata.addAnnotation(ARGO_SYNC_WAVE, Lazy.any({ produce: () => (afterDatabase() ? AFTER_MIGRATION_WAVE : undefined) }));
  }
}
