/**
 * The one place where features layered on the Postgres members plug in (backups and WAL archiving, issue 16):
 * extra ConfigMap files, containers, volumes and environment of every member (Postgres parameters such as
 * archive_command belong in patroni.yml / postgresql.conf, rendered from the same spec). Each feature adds its part here from the resolved spec;
 * the render modules (members.ts, patroni.ts) stay unaware of it.
 */
import type { k8s } from 'cdk8s-plus-28';
import type { ResolvedPostgresCluster } from './resolve';

export interface MemberExtensions {
  /** Extra files of the `<name>-config` ConfigMap (mounted at CONFIG_DIR in every member). */
  readonly files: Record<string, string>;
  /** Extra containers of every member pod (after the exporter). */
  readonly containers: k8s.Container[];
  readonly volumes: k8s.Volume[];
  /** Extra environment of the postgres/Patroni container. */
  readonly env: k8s.EnvVar[];
}

/** Nothing yet: the default cluster adds nothing to its members. */
export function memberExtensions(_spec: ResolvedPostgresCluster): MemberExtensions {
  return { files: {}, containers: [], volumes: [], env: [] };
}
