export * from './postgres-cluster';
export * as postgresSizing from './sizing';
export type { BackupCompression, PostgresBackupProps, PostgresRestoreProps, PostgresRestoreTarget } from './backup';
