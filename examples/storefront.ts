import { App, Chart } from 'cdk8s';
import { GeneratedSecret, StatelessService, connectService } from '../lib';

/**
 * A chart to publish (README.md, "Publishing a chart"): a storefront whose schema migration runs before every rollout, and a catalog
 * whose admin token nobody has to invent — the Helm chart generates it at install and keeps it across upgrades.
 */
export function storefront(app: App): Chart {
  const chart = new Chart(app, 'storefront', { namespace: 'storefront' });
  const adminToken = new GeneratedSecret(chart, 'catalog-admin', { keys: { token: 40 } });
  const catalog = new StatelessService(chart, 'catalog', {
    image: 'ghcr.io/example/catalog:2.0.1',
    autoscaling: { maxReplicas: 8 },
    secretEnv: { CATALOG_ADMIN_TOKEN: adminToken.ref('token') },
  });
  const web = new StatelessService(chart, 'web', {
    image: 'ghcr.io/example/storefront:1.8.0',
    appMode: 'api',
    env: { LOG_LEVEL: 'info' },
    secretEnv: { DATABASE_URL: { secretName: 'storefront-db', key: 'url' } },
    migration: { command: ['/app/storefront', 'migrate', 'up'] },
    ingress: { host: 'shop.example.com', tlsSecretName: 'storefront-tls' },
    serviceMonitor: true,
  });
  // CATALOG_URL, and web's pods let through catalog's NetworkPolicy.
  connectService(web, catalog, { envName: 'CATALOG_URL' });
  return chart;
}
