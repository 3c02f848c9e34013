/**
 * The one place where features layered on the Postgres members plug in (backups and WAL archiving, issue 16):
 * extra ConfigMap files, containers, volumes and environment of every member (Postgres parameters such as
 * archive_command belong in patroni.yml / postgresql.conf, rendered from the same spec). Each feature adds its part here from the resolved spec;
 * the render modules (members.ts, patroni.ts) stay unaware of it.
 */
import type { k8s } from 'cdk8s-plus-28';
import { backupExtensions } from './backup-members';
import type { ResolvedPostgresCluster } from './resolve';

export interface MemberExtensions {
  /** Extra files of the `<name>-config` ConfigMap (mounted at CONFIG_DIR in every member). */
  readonly files: Record<string, string>;
  /** Extra containers of every member pod (after the exporter). */
  readonly containers: k8s.Container[];
  readonly volumes: k8s.Volume[];
  /** Extra environment of the postgres/Patroni container. */
  readonly env: k8s.EnvVar[];
  /** Extra init containers of every (Patroni) member pod, after Patroni's render-config. */
  readonly initContainers: k8s.Container[];
}

/** The default cluster adds nothing; `backup` adds pgBackRest's files, its init step, the backup sidecar and env. */
export function memberExtensions(spec: ResolvedPostgresCluster): MemberExtensions {
  return spec.backup ? backupExtensions(spec, spec.backup) : { files: {}, containers: [], volumes: [], env: [], initContainers: [] };
}
