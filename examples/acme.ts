import { App, Chart } from 'cdk8s';
import { Presets, StatelessService } from '../lib';
import * as acme from './acme-presets/index';

/**
 * A team using its platform's preset package: no call site repeats the registry, labels, tolerations,
 * targets or ceilings; the one service that needs more headroom says so where it is declared.
 */
export function acmeStore(app: App): Chart {
  const chart = new Chart(app, 'acme-store', { namespace: 'store' });
  Presets.apply(chart, acme.platform);
  Presets.apply(chart, acme.production);
  new StatelessService(chart, 'storefront', { image: 'acme/storefront:5.2.0' });
  new StatelessService(chart, 'checkout', { image: 'acme/checkout:2.9.1', autoscaling: { maxReplicas: 30 } });
  return chart;
}
