import { App, Chart } from 'cdk8s';
import { StatelessService } from '../lib';

/** Quick start: a public API and an internal service, each with the documented defaults. */
export function quickstart(app: App): Chart {
  const chart = new Chart(app, 'quickstart', { namespace: 'shop' });
  new StatelessService(chart, 'api', {
    image: 'ghcr.io/example/shop-api:1.4.2',
    appMode: 'api',
    port: 8080,
    env: { LOG_LEVEL: 'info' },
    secretEnv: { DATABASE_URL: { secretName: 'shop-db', key: 'url' } },
    ingress: { host: 'shop.example.com', tlsSecretName: 'shop-tls' },
    serviceMonitor: true,
  });
  new StatelessService(chart, 'catalog', {
    image: 'ghcr.io/example/catalog:2.0.1',
    autoscaling: { cpuUtilization: 70, memoryUtilization: 80, maxReplicas: 8 },
  });
  return chart;
}
