import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App, YamlOutputType } from 'cdk8s';
import { chartCapacityReport, renderCapacityMarkdown, renderCapacitySummary } from '../lib/capacity-report';
import { EXAMPLES } from './index';

/**
 * Entry point of `cdk8s synth`: one manifest file per example chart in dist/, and beside each a capacity report
 * (`<chart>.capacity.md`), summarized on stdout.
 */
const outdir = process.env.CDK8S_OUTDIR ?? 'dist';
const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
const charts = Object.values(EXAMPLES).map((build) => build(app));
app.synth();
mkdirSync(outdir, { recursive: true });
for (const chart of charts) {
  const report = chartCapacityReport(chart);
  writeFileSync(join(outdir, `${chart.node.id}.capacity.md`), renderCapacityMarkdown(chart.node.id, report));
  process.stderr.write(`${renderCapacitySummary(chart.node.id, report)}\n`);
}
