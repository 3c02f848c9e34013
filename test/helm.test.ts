import { EXAMPLES } from '../examples';
import { describeHelmChart } from './harness/helm';

// Every example app as a published chart: the quick start, the storefront (generated secret, migration hook) and
// the seed systems with their PostgresCluster / RedisHA constructs all go through the same battery.
for (const [name, build] of Object.entries(EXAMPLES)) describeHelmChart(name, (app) => build(app));
