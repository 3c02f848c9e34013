import { quickstart } from '../examples/quickstart';
import { storefront } from '../examples/storefront';
import { describeHelmChart } from './harness/helm';

describeHelmChart('quickstart', (app) => quickstart(app), { chart: { version: '1.0.0' } });
describeHelmChart('storefront (generated secret, pre-install migration)', (app) => storefront(app));
