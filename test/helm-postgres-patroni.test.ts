import { Chart } from 'cdk8s';
import { PostgresCluster } from '../lib';
import { describeHelmChart } from './harness/helm';

// The Patroni topology as a published chart, through the same battery as the examples.
describeHelmChart('postgres-patroni', (app) => {
  const chart = new Chart(app, 'shop', { namespace: 'shop' });
  new PostgresCluster(chart, 'orders-db', {
    credentials: { superuser: { secretName: 'orders-db-superuser' }, replication: { secretName: 'orders-db-replication' }, app: { secretName: 'orders-db-app' } },
    failover: 'patroni', metrics: true,
  });
});
