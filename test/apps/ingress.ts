import { App, Chart } from 'cdk8s';
import { StatelessService } from '../../lib';
import type { IngressProps } from '../../lib/workloads/ingress';

/** Issue 17's `ingress.*` chart values in every case a StatelessService offers (test/helm-ingress.test.ts, test/cluster/). */
export const INGRESS_APP_TRAEFIK = { namespace: 'traefik', podLabels: { 'app.kubernetes.io/name': 'traefik' } };

/**
 * `web` declares an Ingress (two hosts, TLS, annotations); `api` none, with an allowFrom peer before the controller's
 * place and a wired client after it; `admin` none and no NetworkPolicy; `internal` says `ingress: false`; `edge` none,
 * with its own controller peer (traefik). `apiIngress` gives `api` and `edge` the Ingress their example host stands for.
 */
export function ingressApp(app: App, apiIngress?: IngressProps): Chart {
  const chart = new Chart(app, 'shop', { namespace: 'shop' });
  new StatelessService(chart, 'web', {
    image: 'ghcr.io/example/web:1.0.0',
    ingress: {
      className: 'nginx',
      annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' },
      hosts: [{ host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix' }, { path: '/static', pathType: 'Prefix' }] }, { host: '*.shop.example.com' }],
      tls: [{ hosts: ['shop.example.com'], secretName: 'web-tls' }],
    },
  });
  const api = new StatelessService(chart, 'api', {
    image: 'ghcr.io/example/api:1.0.0',
    networkPolicy: { allowFrom: [{ namespace: 'partners' }] },
    ...(apiIngress ? { ingress: apiIngress } : {}),
  });
  api.allowClient({ 'app.kubernetes.io/name': 'web' });
  new StatelessService(chart, 'admin', { image: 'ghcr.io/example/admin:1.0.0', networkPolicy: false });
  new StatelessService(chart, 'internal', { image: 'ghcr.io/example/internal:1.0.0', ingress: false });
  new StatelessService(chart, 'edge', {
    image: 'ghcr.io/example/edge:1.0.0', networkPolicy: { ingressController: INGRESS_APP_TRAEFIK },
    ...(apiIngress ? { ingress: { ...apiIngress, hosts: [{ host: 'edge.example.com' }] } } : {}),
  });
  return chart;
}

