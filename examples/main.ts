import { App, YamlOutputType } from 'cdk8s';
import { EXAMPLES } from './index';

/** Entry point of `cdk8s synth`: one file per example chart in dist/. */
const app = new App({ outdir: process.env.CDK8S_OUTDIR ?? 'dist', yamlOutputType: YamlOutputType.FILE_PER_CHART });
for (const build of Object.values(EXAMPLES)) build(app);
app.synth();
