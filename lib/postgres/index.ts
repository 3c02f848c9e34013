export * from './postgres-cluster';
export * as postgresSizing from './sizing';
