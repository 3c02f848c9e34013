export * from './redis-ha';
export * from './network-policy';
export * from './alerts';
