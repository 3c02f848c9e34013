/**
 * Continuous backups and point-in-time recovery of a Patroni PostgresCluster (issue 16) with pgBackRest to an
 * S3-compatible store: WAL archiving (archive_command), scheduled full backups by a sidecar on the leader, and a
 * Patroni custom bootstrap that creates a new cluster from the store. The files that run in the pods are real files
 * beside this one (pgbackrest.conf, backup-init.sh, backup-loop.sh, backup-restore.sh), run by
 * test/postgres-backup.test.ts against a real S3 server. Why pgBackRest and the image: docs/postgres.md,
 * "Backups and recovery".
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { Problems } from '../core/problems';
import { BACKUP } from '../defaults';
import { ValidationError } from '../errors';
import type { AlertRule } from '../monitoring';
import { containerSecurityContext } from '../pod';
import { checkInteger, checkObjectName, checkOneOf } from '../validate';
import { readAsset, renderTemplate } from './files';

export const BACKUP_COMPRESSIONS = ['zst', 'lz4', 'gz', 'bz2', 'none'] as const;
export type BackupCompression = typeof BACKUP_COMPRESSIONS[number];

/** Where and how often the cluster is backed up. Defaults and the runbook: docs/postgres.md, "Backups and recovery". */
export interface PostgresBackupProps {
  /** S3 bucket (created beforehand). */
  readonly bucket: string;
  /** S3 endpoint: `host` or `host:port`, optionally with `https://`; always TLS. e.g. `s3.eu-central-1.amazonaws.com`. */
  readonly endpoint: string;
  /** S3 region. @default `us-east-1` */
  readonly region?: string;
  /** Secret holding the S3 credentials under the keys `accessKeyId` and `secretAccessKey` (mounted as files, never env). */
  readonly credentialsSecret: string;
  /** Path of this cluster's repository in the bucket. @default `/scalecharts/<cluster name>` */
  readonly pathPrefix?: string;
  /** Full backup schedule, a 5-field cron expression in UTC (`*`, lists, ranges, steps). @default `30 2 * * *` (daily, 02:30 UTC) */
  readonly schedule?: string;
  /** Full backups kept; older ones and the WAL only they need are expired after each backup. @default 7 */
  readonly retentionFull?: number;
  /** Compression of backups and archived WAL. @default `zst` */
  readonly compression?: BackupCompression;
  /** `archive_timeout` in seconds: at most this much committed work is only in the local WAL when writes are rare. @default 60 */
  readonly archiveTimeout?: number;
  /** `path` (https://endpoint/bucket: MinIO, Ceph, most S3-compatible servers) or `host` (https://bucket.endpoint: AWS). @default `host` */
  readonly uriStyle?: 'path' | 'host';
  /** ConfigMap with a `ca.crt` that signed the endpoint's certificate (private CAs); the system CAs otherwise. @default none */
  readonly caConfigMap?: string;
}

/** What a new cluster bootstraps from: the newest state, one backup, or a point in time. */
export type PostgresRestoreTarget =
  | { readonly fromBackup?: string }
  | { readonly targetTime: string }
  | { readonly targetLsn: string };

/** `restore`: create this (new) cluster from a repository instead of initdb. */
export type PostgresRestoreProps = PostgresRestoreTarget & {
  /** Repository path (in `backup.bucket`) to restore from. @default `backup.pathPrefix` of this cluster */
  readonly sourcePathPrefix?: string;
};

export interface ResolvedBackup {
  readonly bucket: string;
  readonly endpointHost: string;
  readonly endpointPort: number;
  readonly region: string;
  readonly credentialsSecret: string;
  readonly repoPath: string;
  readonly schedule: string;
  readonly retentionFull: number;
  readonly compression: BackupCompression;
  readonly archiveTimeout: number;
  readonly uriStyle: 'path' | 'host';
  readonly caConfigMap?: string;
}

export interface ResolvedRestore {
  readonly sourcePath: string;
  readonly set?: string;
  readonly targetTime?: string;
  readonly targetLsn?: string;
}

/** The pgBackRest stanza; one per repository path, so every cluster has its own path. */
export const STANZA = 'db';
/** Where the credentials Secret and the rendered credentials file live in the pod. */
export const BACKUP_SECRET_DIR = '/var/run/secrets/scalecharts/backup';
export const BACKUP_CA_DIR = '/etc/pgbackrest-ca';

const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
const CRON_RANGES: ReadonlyArray<[number, number, string]> = [[0, 59, 'minute'], [0, 23, 'hour'], [1, 31, 'day of month'], [1, 12, 'month'], [0, 7, 'day of week']];

/** Checks a 5-field cron expression of the subset backup-loop.sh understands; returns it. */
export function checkCron(scope: Construct, property: string, value: unknown): string {
  const allowed = 'a 5-field cron expression in UTC (minute hour day-of-month month day-of-week) of numbers, `*`, lists `a,b`, ranges `a-b` and steps `/n`, e.g. "30 2 * * *"';
  if (typeof value !== 'string') throw new ValidationError(scope, property, value, `must be ${allowed}`);
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every((f) => CRON_FIELD.test(f))) throw new ValidationError(scope, property, value, `must be ${allowed}`);
  fields.forEach((f, i) => {
    const [min, max, what] = CRON_RANGES[i];
    for (const part of f.split(',')) {
      const [range, step] = part.split('/');
      if (step !== undefined && Number(step) < 1) throw new ValidationError(scope, property, value, `a step in the ${what} field must be at least 1`);
      if (range === '*') continue;
      const [a, b = a] = range.split('-').map(Number);
      if (a < min || b > max || a > b) throw new ValidationError(scope, property, value, `the ${what} field allows ${min}–${max} (ranges low-high)`);
    }
  });
  return fields.join(' ');
}

const HOST = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/i;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PATH = /^(\/[A-Za-z0-9._-]+)+$/;
const REGION = /^[a-z0-9-]{1,64}$/;
const LABEL = /^\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?$/;
/** ISO 8601 with an explicit offset: the restored cluster must not depend on a time zone setting. */
const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;
const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;

function checkString(scope: Construct, property: string, value: unknown, re: RegExp, allowed: string): string {
  if (typeof value !== 'string' || !re.test(value)) throw new ValidationError(scope, property, value, `must be ${allowed}`);
  return value;
}

/** Validates `backup` (every error names the property); `clusterName` gives the default repository path. */
export function resolveBackup(scope: Construct, props: PostgresBackupProps | undefined, clusterName: string): ResolvedBackup | undefined {
  if (props === undefined) return undefined;
  if (props === null || typeof props !== 'object') throw new ValidationError(scope, 'backup', props, 'must be an object with bucket, endpoint and credentialsSecret');
  // Each field is judged on its own, so every mistake in `backup` is reported at once.
  const p = new Problems(scope);
  const bucket = p.run(() => checkString(scope, 'backup.bucket', props.bucket, BUCKET, 'an S3 bucket name: 3–63 lowercase letters, digits, "." and "-"'), '');
  const endpoint = p.run(() => {
    const allowed = 'must be host or host:port, optionally prefixed with https:// (pgBackRest always uses TLS)';
    if (typeof props.endpoint !== 'string') throw new ValidationError(scope, 'backup.endpoint', props.endpoint, allowed);
    const m = /^(?:https:\/\/)?([^/:]+)(?::(\d{1,5}))?\/?$/.exec(props.endpoint);
    if (!m || !HOST.test(m[1])) throw new ValidationError(scope, 'backup.endpoint', props.endpoint, allowed);
    const port = m[2] === undefined ? 443 : Number(m[2]);
    if (port < 1 || port > 65535) throw new ValidationError(scope, 'backup.endpoint', props.endpoint, 'port must be 1–65535');
    return { host: m[1], port };
  }, { host: '', port: 443 });
  const region = p.run(() => checkString(scope, 'backup.region', props.region ?? BACKUP.region, REGION, 'an S3 region: lowercase letters, digits and "-"'), '');
  const credentialsSecret = p.run(() => checkObjectName(scope, 'backup.credentialsSecret', props.credentialsSecret), '');
  const repoPath = p.run(() => checkString(scope, 'backup.pathPrefix', props.pathPrefix ?? `/scalecharts/${clusterName}`, PATH, 'an absolute path of segments of letters, digits, ".", "_" and "-", e.g. "/prod/orders-db"'), '');
  const schedule = p.run(() => checkCron(scope, 'backup.schedule', props.schedule ?? BACKUP.schedule), '');
  const retentionFull = p.run(() => checkInteger(scope, 'backup.retentionFull', props.retentionFull ?? BACKUP.retentionFull, { min: 1, max: 9999999 }), 1);
  const compression = p.run(() => checkOneOf(scope, 'backup.compression', props.compression ?? BACKUP.compression, BACKUP_COMPRESSIONS), BACKUP.compression);
  const archiveTimeout = p.run(() => checkInteger(scope, 'backup.archiveTimeout', props.archiveTimeout ?? BACKUP.archiveTimeout, { min: 1, max: 86400 }), 1);
  const uriStyle = p.run(() => checkOneOf(scope, 'backup.uriStyle', props.uriStyle ?? BACKUP.uriStyle, ['path', 'host'] as const), 'path' as const);
  const ca = props.caConfigMap;
  const caConfigMap = ca === undefined ? undefined : p.run<string | undefined>(() => checkObjectName(scope, 'backup.caConfigMap', ca), undefined);
  p.throwIfAny();
  return { bucket, endpointHost: endpoint.host, endpointPort: endpoint.port, region, credentialsSecret, repoPath, schedule, retentionFull, compression, archiveTimeout, uriStyle, caConfigMap };
}

/** Validates `restore` against the resolved `backup` (a restore reads the same store). */
export function resolveRestore(scope: Construct, props: PostgresRestoreProps | undefined, backup: ResolvedBackup | undefined): ResolvedRestore | undefined {
  if (props === undefined) return undefined;
  if (props === null || typeof props !== 'object') throw new ValidationError(scope, 'restore', props, 'must be an object: {}, { fromBackup }, { targetTime } or { targetLsn }');
  if (!backup) throw new ValidationError(scope, 'restore', props, 'needs `backup` (the store to restore from; the new cluster archives to its own pathPrefix)');
  const p = props as { fromBackup?: unknown; targetTime?: unknown; targetLsn?: unknown; sourcePathPrefix?: unknown };
  const given = (['fromBackup', 'targetTime', 'targetLsn'] as const).filter((k) => p[k] !== undefined);
  if (given.length > 1) throw new ValidationError(scope, `restore.${given[1]}`, p[given[1]], `can't be combined with restore.${given[0]}: give one of fromBackup, targetTime, targetLsn (none: the newest state)`);
  const sourcePath = checkString(scope, 'restore.sourcePathPrefix', p.sourcePathPrefix ?? backup.repoPath, PATH, 'an absolute path of segments of letters, digits, ".", "_" and "-"');
  const set = p.fromBackup === undefined ? undefined : checkString(scope, 'restore.fromBackup', p.fromBackup, LABEL, 'a pgBackRest backup label, e.g. "20261127-020000F" (`pgbackrest info` lists them)');
  let targetTime: string | undefined;
  if (p.targetTime !== undefined) {
    targetTime = checkString(scope, 'restore.targetTime', p.targetTime, TIME, 'an ISO 8601 time with an offset, e.g. "2026-11-27T10:15:00Z" or "2026-11-27 11:15:00+01:00"');
    if (Number.isNaN(Date.parse(targetTime.replace(' ', 'T')))) throw new ValidationError(scope, 'restore.targetTime', p.targetTime, 'must be a valid calendar time');
  }
  const targetLsn = p.targetLsn === undefined ? undefined : checkString(scope, 'restore.targetLsn', p.targetLsn, LSN, 'a WAL position like "0/3000060" (pg_current_wal_lsn())').toUpperCase();
  if (sourcePath === backup.repoPath && (set || targetTime || targetLsn)) {
    // A past point restored into the same path would archive a second history over the one it came from.
    throw new ValidationError(scope, 'restore.sourcePathPrefix', sourcePath, 'must differ from backup.pathPrefix for a point-in-time restore: the new cluster archives a new history to its own path');
  }
  return { sourcePath, set, targetTime, targetLsn };
}

/** archive_command and friends: Patroni's local `postgresql.parameters` of every member. */
export function archiveParameters(b: ResolvedBackup): Record<string, string | number> {
  return {
    archive_mode: 'on',
    // pgBackRest reads its config from PGBACKREST_* variables of the container (Postgres inherits them from Patroni).
    // `timeout`: against an unreachable store pgBackRest retries for ~18 min (io-timeout 60 s × its retries) before it
    // fails; bounded, each attempt fails within the timeout, so pg_stat_archiver.failed_count rises and alerts.
    archive_command: `timeout ${BACKUP.archivePushTimeoutSeconds} pgbackrest --stanza=${STANZA} archive-push "%p"`,
    archive_timeout: b.archiveTimeout,
  };
}

/** Replicas (and a restarted member) fetch WAL they lack from the store. */
export function replicaRestoreCommand(): string {
  return `pgbackrest --stanza=${STANZA} archive-get %f "%p"`;
}

/** The patroni.yml placeholders for backups: archive parameters, the replicas' restore_command, the restore bootstrap. */
export function backupPatroniYaml(b: ResolvedBackup | undefined, r: ResolvedRestore | undefined, configDir: string): Record<string, string> {
  if (!b) {
    return {
      archiveParameters: '    # no WAL archiving (backup is not set)',
      recoveryConf: '',
      restoreBootstrap: '  # bootstrap: initdb (restore is not set)',
    };
  }
  const q = (s: string | number): string => typeof s === 'number' ? String(s) : `'${s.replace(/'/g, "''")}'`;
  return {
    archiveParameters: [
      '    # WAL archiving to the backup store (pgBackRest, lib/postgres/backup.ts); a failed push is retried by Postgres.',
      ...Object.entries(archiveParameters(b)).map(([k, v]) => `    ${k}: ${q(v)}`),
    ].join('\n'),
    recoveryConf: [
      '  # A replica that fell behind its leader\'s WAL fetches the missing segments from the store.',
      '  recovery_conf:',
      `    restore_command: ${q(replicaRestoreCommand())}`,
      // During a custom bootstrap Patroni trusts only the socket and the member's own address; its TCP connections
      // may come from another local address (a node's loopback), so it talks to its Postgres over the socket.
      ...(r ? ['  use_unix_socket: true'] : []),
    ].join('\n'),
    restoreBootstrap: r ? restoreBootstrapYaml(r, configDir) : '  # bootstrap: initdb (restore is not set)',
  };
}

/** Patroni's custom bootstrap section for `restore` (YAML, indented for `bootstrap:`). */
export function restoreBootstrapYaml(r: ResolvedRestore, configDir: string): string {
  const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  const recovery: string[] = [
    `      restore_command: ${q(`pgbackrest --stanza=${STANZA} --repo1-path=${r.sourcePath} archive-get %f "%p"`)}`,
    '      recovery_target_action: promote',
    '      recovery_target_timeline: latest',
  ];
  // Postgres refuses ISO 8601's `T` and `Z` here ("invalid value for parameter"): a space and +00 instead.
  if (r.targetTime) recovery.push(`      recovery_target_time: ${q(r.targetTime.replace('T', ' ').replace(/Z$/, '+00'))}`, '      recovery_target_inclusive: false');
  else if (r.targetLsn) recovery.push(`      recovery_target_lsn: ${q(r.targetLsn)}`, '      recovery_target_inclusive: false');
  else if (r.set) recovery.push('      recovery_target: immediate');
  const args = [`    source_path: ${q(r.sourcePath)}`];
  if (r.set) args.push(`    backup_set: ${q(r.set)}`);
  if (r.targetTime) args.push(`    target_time: ${q(r.targetTime)}`);
  if (r.targetLsn) args.push(`    target_lsn: ${q(r.targetLsn)}`);
  return [
    '  # restore: the first member restores a backup from the store (backup-restore.sh), Postgres replays the archived',
    '  # WAL to the target and promotes itself; the other members clone it as usual.',
    '  method: pgbackrest',
    '  pgbackrest:',
    `    command: bash ${configDir}/backup-restore.sh`,
    ...args,
    '    recovery_conf:',
    ...recovery,
  ].join('\n');
}

export interface BackupFilesOptions {
  readonly backup: ResolvedBackup;
  readonly runDir: string;
  /** CPU limit of the backup sidecar, in cores: pgBackRest's process-max. */
  readonly processMax: number;
}

/** ConfigMap entries: pgbackrest.conf (no secrets) and the three scripts. */
export function backupFiles(o: BackupFilesOptions): Record<string, string> {
  const b = o.backup;
  return {
    'pgbackrest.conf': renderTemplate('pgbackrest.conf', {
      bucket: b.bucket, endpointHost: b.endpointHost, endpointPort: b.endpointPort, region: b.region, uriStyle: b.uriStyle,
      repoPath: b.repoPath, retentionFull: b.retentionFull, compression: b.compression, processMax: o.processMax,
      caFileLine: b.caConfigMap ? `repo1-storage-ca-file=${o.runDir}/pgbackrest/ca.crt` : '# the system CA certificates verify the endpoint',
      archivePushTimeout: BACKUP.archivePushTimeoutSeconds, stanza: STANZA, socketDir: o.runDir, lockDir: `${o.runDir}/pgbackrest-lock`,
    }),
    'backup-init.sh': readAsset('backup-init.sh'),
    'backup-loop.sh': readAsset('backup-loop.sh'),
    'backup-restore.sh': readAsset('backup-restore.sh'),
    [BACKUP_QUERIES_FILE]: BACKUP_EXPORTER_QUERIES,
  };
}

/** PGBACKREST_* of every container that runs pgBackRest: the config, the credentials include, this pod's Postgres. */
export function backupEnv(o: { configDir: string; runDir: string; dataDir: string; port: number }): k8s.EnvVar[] {
  return [
    { name: 'PGBACKREST_CONFIG', value: `${o.configDir}/pgbackrest.conf` },
    { name: 'PGBACKREST_CONFIG_INCLUDE_PATH', value: `${o.runDir}/pgbackrest` },
    { name: 'PGBACKREST_PG1_PATH', value: o.dataDir },
    { name: 'PGBACKREST_PG1_PORT', value: String(o.port) },
  ];
}

/** The Secret volume with the S3 keys and, with caConfigMap, the CA. */
export function backupVolumes(b: ResolvedBackup): k8s.Volume[] {
  return [
    { name: 'backup-credentials', secret: { secretName: b.credentialsSecret, defaultMode: 0o440, items: [{ key: 'accessKeyId', path: 'accessKeyId' }, { key: 'secretAccessKey', path: 'secretAccessKey' }] } },
    ...(b.caConfigMap ? [{ name: 'backup-ca', configMap: { name: b.caConfigMap, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] : []),
  ];
}

export function backupMounts(b: ResolvedBackup): k8s.VolumeMount[] {
  return [
    { name: 'backup-credentials', mountPath: BACKUP_SECRET_DIR, readOnly: true },
    ...(b.caConfigMap ? [{ name: 'backup-ca', mountPath: BACKUP_CA_DIR, readOnly: true }] : []),
  ];
}

/** Env of the init step that renders the credentials include file (and copies the CA beside it). */
export function backupInitEnv(b: ResolvedBackup, runDir: string): k8s.EnvVar[] {
  return [
    { name: 'PGBACKREST_CONFIG_INCLUDE_PATH', value: `${runDir}/pgbackrest` },
    { name: 'S3_KEY_ID_FILE', value: `${BACKUP_SECRET_DIR}/accessKeyId` },
    { name: 'S3_KEY_FILE', value: `${BACKUP_SECRET_DIR}/secretAccessKey` },
    ...(b.caConfigMap ? [{ name: 'BACKUP_CA_FILE', value: `${BACKUP_CA_DIR}/ca.crt` }] : []),
  ];
}

/**
 * The backup sidecar: backup-loop.sh runs the scheduled full backup when its member leads (a sidecar, not a
 * CronJob: pgBackRest backs up from the data directory, which only the leader's pod mounts, RWO).
 */
export function backupSidecar(o: {
  image: string; backup: ResolvedBackup; configDir: string; env: k8s.EnvVar[]; mounts: k8s.VolumeMount[];
}): k8s.Container {
  return {
    name: 'backup',
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['bash', `${o.configDir}/backup-loop.sh`],
    env: [
      ...o.env,
      { name: 'BACKUP_SCHEDULE', value: o.backup.schedule },
      { name: 'BACKUP_STANZA', value: STANZA },
    ],
    resources: {
      requests: { cpu: k8s.Quantity.fromString(BACKUP.requests.cpu), memory: k8s.Quantity.fromString(BACKUP.requests.memory) },
      limits: { cpu: k8s.Quantity.fromString(BACKUP.limits.cpu), memory: k8s.Quantity.fromString(BACKUP.limits.memory) },
    },
    securityContext: containerSecurityContext(true),
    volumeMounts: o.mounts,
  };
}

/**
 * postgres_exporter query (its --extend.query-path file): age of the newest backup, from the table backup-loop.sh
 * writes after each backup (replicated, so any member's exporter answers).
 */
export const BACKUP_QUERIES_FILE = 'exporter-backup-queries.yaml';
export const BACKUP_EXPORTER_QUERIES = `pg_backup:
  query: "SELECT EXTRACT(EPOCH FROM now() - max(finished_at))::float8 AS newest_age_seconds, count(*)::float8 AS recorded FROM scalecharts_backup.runs"
  master: true
  metrics:
    - newest_age_seconds:
        usage: "GAUGE"
        description: "Seconds since the newest successful pgBackRest backup finished"
    - recorded:
        usage: "GAUGE"
        description: "Backups recorded by the backup sidecar"
`;

/**
 * Alerts: archiving failing (pg_stat_archiver.failed_count rising while nothing is archived), and the newest
 * backup older than the schedule allows (one period plus the time a backup may take).
 */
export function backupAlerts(name: string, b: ResolvedBackup, sel: string): AlertRule[] {
  const maxAge = scheduleMaxGapSeconds(b.schedule) + BACKUP.backupDurationAllowanceSeconds;
  return [
    {
      alert: 'PostgresWalArchivingFailing',
      expr: `increase(pg_stat_archiver_failed_count{${sel}}[5m]) > 0 and increase(pg_stat_archiver_archived_count{${sel}}[5m]) == 0`,
      for: '5m',
      severity: 'critical',
      summary: `${name}: WAL archiving to the backup store fails`,
      description: 'archive_command keeps failing (pg_stat_archiver.failed_count rises, nothing archived): point-in-time recovery stops at the last archived segment and pg_wal grows until the store is back. Check the pod log of the leader (pgbackrest archive-push) and the store.',
    },
    {
      alert: 'PostgresBackupTooOld',
      expr: `min(pg_backup_newest_age_seconds{${sel}}) > ${maxAge} or absent(pg_backup_newest_age_seconds{${sel}})`,
      for: '15m',
      severity: 'warning',
      summary: `${name}: the newest backup is older than its schedule allows`,
      description: `No full backup finished in the last ${maxAge} s (schedule "${b.schedule}" plus ${BACKUP.backupDurationAllowanceSeconds} s for a backup to run). See the backup container's log on the leader.`,
    },
  ];
}

/**
 * The longest gap, in seconds, between two runs of a cron schedule over a leap-year-free 4-week span (enough for
 * the schedules a backup uses: hourly, daily, weekly); at least one day for monthly schedules.
 */
export function scheduleMaxGapSeconds(schedule: string): number {
  const fields = schedule.split(' ');
  const expand = (f: string, min: number, max: number): Set<number> => {
    const out = new Set<number>();
    for (const part of f.split(',')) {
      const [range, stepText] = part.split('/');
      const step = stepText ? Number(stepText) : 1;
      const [a, b] = range === '*' ? [min, max] : ((): [number, number] => { const [x, y = x] = range.split('-').map(Number); return [x, stepText && !range.includes('-') ? max : y]; })();
      for (let v = a; v <= b; v += step) out.add(v);
    }
    return out;
  };
  const [mi, ho, dom, mo, dow] = [expand(fields[0], 0, 59), expand(fields[1], 0, 23), expand(fields[2], 1, 31), expand(fields[3], 1, 12), expand(fields[4], 0, 7)];
  if (dow.has(7)) dow.add(0);
  const domAny = fields[2] === '*';
  const dowAny = fields[4] === '*';
  // Minutes of 2026-02-01 .. 2026-03-29 (UTC), a span starting on a Sunday.
  const start = Date.UTC(2026, 1, 1);
  let last = -1;
  let gap = 0;
  let first = -1;
  for (let t = 0; t < 8 * 7 * 1440; t++) {
    const d = new Date(start + t * 60_000);
    if (!mi.has(d.getUTCMinutes()) || !ho.has(d.getUTCHours()) || !mo.has(d.getUTCMonth() + 1)) continue;
    const dayOk = domAny && dowAny ? true : domAny ? dow.has(d.getUTCDay()) : dowAny ? dom.has(d.getUTCDate()) : dom.has(d.getUTCDate()) || dow.has(d.getUTCDay());
    if (!dayOk) continue;
    if (first < 0) first = t;
    if (last >= 0) gap = Math.max(gap, t - last);
    last = t;
  }
  // Fewer than two runs in the span (monthly or rarer): allow 31 days.
  return (first < 0 || gap === 0 ? 31 * 1440 : gap) * 60;
}
