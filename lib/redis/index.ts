export * from './redis-ha';
export * from './network-policy';
