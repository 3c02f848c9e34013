import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { RpcPool, StatelessService } from '../lib';
import { writeHelmChart } from '../lib/helm';
import { renderChart } from './harness/helm';
import { K8sObject, find } from './harness/synth';

/**
 * Issue 20: Secrets only the user can create (RpcPool provider URLs, Ingress TLS) are release-scoped in charts
 * (`<release>-<name>`, or `userSecrets.<key>.name` for an existing one), so two releases never share them; plain
 * manifests keep the name given. Real helm, two release names.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function build(): { app: App; chart: Chart; dir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-user-secrets-'));
  dirs.push(root);
  const app = new App({ outdir: path.join(root, 'out') });
  const chart = new Chart(app, 'chain', { namespace: 'chain' });
  new RpcPool(chart, 'rpc', {
    upstreams: [
      { name: 'alchemy', urlSecret: { secretName: 'rpc-urls', key: 'alchemy' } },
      { name: 'infura', urlSecret: { secretName: 'rpc-urls', key: 'infura' }, wsUrlSecret: { secretName: 'rpc-urls', key: 'infura-ws' } },
    ],
  });
  new StatelessService(chart, 'web', { image: 'ghcr.io/example/web:1.0.0', ingress: { host: 'web.example.com', tlsSecretName: 'web-tls' } });
  return { app, chart, dir: path.join(root, 'chart') };
}

const urlSecretNames = (objects: K8sObject[]): string[] => {
  const proxy = objects.filter((o) => o.kind === 'Deployment' && /(^|-)rpc$/.test(o.metadata.name));
  expect(proxy).toHaveLength(1);
  const volumes = proxy[0].spec.template.spec.volumes as K8sObject[];
  return volumes.find((v) => v.name === 'rpc-urls')!.projected.sources.map((s: K8sObject) => s.secret.name);
};

describe('Secrets only the user can create, in a chart', () => {
  const { app, chart, dir } = build();
  const written = writeHelmChart(app, dir);

  it('plain manifests keep the names given', () => {
    const objects = chart.toJson();
    expect(urlSecretNames(objects)).toEqual(['rpc-urls', 'rpc-urls', 'rpc-urls']);
    expect(find(objects, 'Ingress', 'web').spec.tls[0].secretName).toBe('web-tls');
  });

  it('each release reads its own <release>-<name>: two releases share nothing', async () => {
    for (const release of ['r1', 'r2']) {
      const objects = await renderChart(dir, release, { namespace: 'chain' });
      expect(urlSecretNames(objects)).toEqual([`${release}-rpc-urls`, `${release}-rpc-urls`, `${release}-rpc-urls`]);
      expect(find(objects, 'Ingress', `${release}-web`).spec.tls[0].secretName).toBe(`${release}-web-tls`);
    }
  });

  it('a value points a release at an existing Secret; an upstream entry naming another Secret keeps it', async () => {
    const objects = await renderChart(dir, 'r1', {
      namespace: 'chain',
      values: { 'userSecrets.rpcUrls.name': 'shared-provider-keys', 'userSecrets.webTls.name': 'wildcard-tls' },
    });
    expect(urlSecretNames(objects)).toEqual(['shared-provider-keys', 'shared-provider-keys', 'shared-provider-keys']);
    expect(find(objects, 'Ingress', 'r1-web').spec.tls[0].secretName).toBe('wildcard-tls');
    const upstreams = (written.values as K8sObject).rpc.upstreams as K8sObject[];
    const other = upstreams.map((u, i) => (i === 0 ? { ...u, urlSecret: { secretName: 'alchemy-keys', key: 'url' } } : u));
    const r2 = await renderChart(dir, 'r2', { namespace: 'chain', args: ['--set-json', `rpc.upstreams=${JSON.stringify(other)}`] });
    expect(urlSecretNames(r2)).toEqual(['alchemy-keys', 'r2-rpc-urls', 'r2-rpc-urls']);
  });

  it('README, NOTES and the model list them with the value that overrides each', () => {
    expect(written.model.externalSecrets.map((s) => [s.name, s.valuePath])).toEqual([
      ['rpc-urls', 'userSecrets.rpcUrls.name'], ['web-tls', 'userSecrets.webTls.name'],
    ]);
    const readme = written.files.get('README.md')!;
    expect(readme).toContain('`<release>-rpc-urls` (keys `alchemy`, `infura`, `infura-ws`): read by Deployment/rpc; `userSecrets.rpcUrls.name`');
    expect(readme).toContain('`<release>-web-tls`');
    expect(written.files.get('templates/NOTES.txt')).toMatch(/printf "%s-%s" \$\.Release\.Name "web-tls".*set userSecrets\.webTls\.name/);
  });
});
