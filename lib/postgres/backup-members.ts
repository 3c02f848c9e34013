/**
 * What `backup` adds to every Patroni member pod (through extensions.ts): pgBackRest's config and scripts in the
 * member ConfigMap, the `backup-init` init container (S3 keys from the Secret files into the memory-backed run
 * directory), the PGBACKREST_* environment of the postgres container (archive_command and restore_command run
 * pgBackRest there), and the `backup` sidecar (scheduled full backups on the leader).
 */
import { k8s } from 'cdk8s-plus-28';
import { BACKUP } from '../defaults';
import { TMP_MOUNT, containerSecurityContext } from '../pod';
import { ResolvedBackup, backupEnv, backupFiles, backupInitEnv, backupMounts, backupSidecar, backupVolumes } from './backup';
import type { MemberExtensions } from './extensions';
import { CONFIG_DIR, DATA_MOUNT, PGDATA, PORT, SOCKET_DIR } from './layout';
import type { ResolvedPostgresCluster } from './resolve';

/** How often the sidecar looks whether its member leads and the schedule is due (under a minute: no minute missed). */
export const BACKUP_CHECK_SECONDS = 20;

export function backupExtensions(spec: ResolvedPostgresCluster, b: ResolvedBackup): MemberExtensions {
  const env = backupEnv({ configDir: CONFIG_DIR, runDir: SOCKET_DIR, dataDir: PGDATA, port: PORT });
  const runMount: k8s.VolumeMount = { name: 'run', mountPath: SOCKET_DIR };
  const init: k8s.Container = {
    name: 'backup-init',
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['bash', `${CONFIG_DIR}/backup-init.sh`],
    env: backupInitEnv(b, SOCKET_DIR),
    resources: {
      requests: { cpu: k8s.Quantity.fromString(BACKUP.requests.cpu), memory: k8s.Quantity.fromString(BACKUP.requests.memory) },
      limits: { cpu: k8s.Quantity.fromString(BACKUP.limits.cpu), memory: k8s.Quantity.fromString(BACKUP.limits.memory) },
    },
    securityContext: containerSecurityContext(true),
    volumeMounts: [runMount, { name: 'config', mountPath: CONFIG_DIR, readOnly: true }, ...backupMounts(b)],
  };
  const sidecar = backupSidecar({
    image: spec.image, backup: b, configDir: CONFIG_DIR,
    env: [...env, { name: 'PGHOST', value: SOCKET_DIR }, { name: 'BACKUP_CHECK_SECONDS', value: String(BACKUP_CHECK_SECONDS) }],
    // The data directory (pgBackRest copies it), the socket, its config; /tmp for python3's and psql's scratch files.
    mounts: [{ name: 'data', mountPath: DATA_MOUNT }, runMount, TMP_MOUNT, { name: 'config', mountPath: CONFIG_DIR, readOnly: true }],
  });
  return {
    files: backupFiles({ backup: b, runDir: SOCKET_DIR, processMax: Math.max(1, Math.floor(Number(BACKUP.limits.cpu))) }),
    containers: [sidecar],
    volumes: backupVolumes(b),
    env,
    initContainers: [init],
  };
}
