import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App, YamlOutputType } from 'cdk8s';
import { chartCapacityReport, renderCapacityMarkdown, renderCapacitySummary } from '../lib/capacity-report';
import { renderSecretsMarkdown, secretsToCreate } from '../lib/secrets-to-create';
import { constructWarnings } from '../lib/core/warnings';
import { migrationOrderWarnings } from '../lib/helm/migration-order';
import { EXAMPLES } from './index';

/**
 * Entry point of `cdk8s synth`: one manifest file per example chart in dist/, and beside each a capacity report
 * (`<chart>.capacity.md`), summarized on stdout, and the Secrets to create before applying (`<chart>.secrets.md`).
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
  const secrets = secretsToCreate(chart);
  writeFileSync(join(outdir, `${chart.node.id}.secrets.md`), renderSecretsMarkdown(chart.node.id, secrets));
  for (const w of [...constructWarnings(chart), ...migrationOrderWarnings(chart)]) process.stderr.write(`warning: ${w}\n`);
  if (secrets.length > 0) process.stderr.write(`${chart.node.id}: create ${secrets.length} Secret(s) before applying: ${secrets.map((x) => x.name).join(', ')} (${chart.node.id}.secrets.md)\n`);
}
