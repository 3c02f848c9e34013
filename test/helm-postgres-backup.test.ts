import { Chart } from 'cdk8s';
import { PostgresCluster } from '../lib';
import { describeHelmChart } from './harness/helm';

// Backups as a published chart (issue 16): the backup.bucket, backup.schedule and backup.retentionFull knobs through
// the same battery as the examples.
describeHelmChart('postgres-backup', (app) => {
  const chart = new Chart(app, 'shop', { namespace: 'shop' });
  new PostgresCluster(chart, 'orders-db', {
    credentials: { superuser: { secretName: 'orders-db-superuser' }, replication: { secretName: 'orders-db-replication' }, app: { secretName: 'orders-db-app' } },
    failover: 'patroni', metrics: true,
    backup: { bucket: 'acme-db-backups', endpoint: 's3.eu-central-1.amazonaws.com', region: 'eu-central-1', credentialsSecret: 'orders-db-s3' },
  });
});
