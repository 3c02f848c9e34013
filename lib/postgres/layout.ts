/** Ports, paths and small helpers every Postgres render module shares (one place, so pods and scripts agree). */
import { createHash } from 'crypto';
import { k8s } from 'cdk8s-plus-28';
import type { PostgresCredentials } from './props';

export const PORT = 5432;
export const POOLER_PORT = 6432;
export const POSTGRES_EXPORTER_PORT = 9187;
export const PGBOUNCER_EXPORTER_PORT = 9127;
/** UID/GID of the `postgres` user in the official image. */
export const POSTGRES_UID = 999;
/** UID/GID of the `postgres` user in the PgBouncer image. */
export const POOLER_UID = 70;
export const DATA_MOUNT = '/var/lib/postgresql/data';
export const PGDATA = `${DATA_MOUNT}/pgdata`;
export const SOCKET_DIR = '/var/run/postgresql';
/** libpq password file the replica's WAL receiver reads, written by bootstrap-replica.sh into the socket emptyDir. */
export const PGPASSFILE = `${SOCKET_DIR}/.pgpass`;
export const CONFIG_DIR = '/etc/postgresql-cluster';
export const PASSWORD_DIR = '/run/postgresql-passwords';
export const POOLER_CONFIG_DIR = '/etc/pgbouncer-template';
export const POOLER_RUN_DIR = '/var/run/pgbouncer';
export const CONFIG_HASH_ANNOTATION = 'scalecharts.io/config-hash';

export function passwordFile(which: keyof PostgresCredentials): string {
  return `${PASSWORD_DIR}/${which}/password`;
}

export function passwordMount(which: keyof PostgresCredentials): k8s.VolumeMount {
  return { name: `${which}-password`, mountPath: `${PASSWORD_DIR}/${which}`, readOnly: true };
}

/** Short hash of a ConfigMap's data: changes roll the pods that read it at start. */
export function hashOf(configMap: k8s.KubeConfigMap): string {
  return createHash('sha256').update(JSON.stringify(configMap.toJson().data)).digest('hex').slice(0, 16);
}

/** `printf "%s-%v-…" base values… | sha256sum | trunc 16`, as the chart's config-hash templates compute it. */
export function knobHash(base: string, values: readonly number[]): string {
  return createHash('sha256').update([base, ...values].join('-')).digest('hex').slice(0, 16);
}
