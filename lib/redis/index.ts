export * from './redis-ha';
