/**
 * Runs the security scanners of the test suite (kube-score, Checkov, Trivy when built) over rendered manifests and
 * prints findings per workload: all of them, after the style exemptions of test/scanners/exemptions.yaml (practices
 * we deliberately do not follow, applied to anyone's manifests), and after every exemption (ours only mean
 * something for our manifests). docs/security.md compares our examples with third-party charts this way:
 *
 *   npx tsx scripts/scan.ts <dir with *.yaml> [--json]
 *
 * e.g. after `helm template` of a chart into <dir>/<chart>.yaml. Nothing is downloaded.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import {
  Finding, Scanner, WORKLOAD_KINDS, checkov, exempts, kubeScore, loadExemptions, toolPath, trivy, withComponents,
} from '../test/harness/scanners';

async function main(): Promise<void> {
  const [dir, flag] = process.argv.slice(2);
  if (!dir) throw new Error('usage: npx tsx scripts/scan.ts <dir with *.yaml> [--json]');
  const exemptions = loadExemptions(path.join(__dirname, '..', 'test', 'scanners', 'exemptions.yaml'));
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const sources = Object.fromEntries(files.map((f) => [f, { source: f.replace(/\.ya?ml$/, '') }]));
  const objects: Record<string, Array<Record<string, any>>> = {};
  for (const f of files) {
    objects[sources[f].source] = (yaml.loadAll(fs.readFileSync(path.join(dir, f), 'utf8')) as Array<Record<string, any>>).filter((o) => o && o.kind);
  }
  const found: Finding[] = [
    ...(await Promise.all(files.map((f) => kubeScore(path.join(dir, f), sources[f].source)))).flat(),
    ...await checkov(dir, sources),
    ...(toolPath('trivy') ? await trivy(dir, sources) : []),
  ];
  const findings = withComponents(found, objects, {});
  const scanners: Scanner[] = ['kube-score', 'checkov', ...(toolPath('trivy') ? ['trivy' as const] : [])];
  const rows = Object.entries(objects).map(([source, objs]) => {
    const workloads = objs.filter((o) => WORKLOAD_KINDS.has(o.kind)).length;
    const per = Object.fromEntries(scanners.map((s) => {
      const mine = findings.filter((f) => f.source === source && f.scanner === s);
      const afterStyle = mine.filter((f) => !exemptions.some((e) => e.class === 'style' && exempts(e, f)));
      const afterAll = mine.filter((f) => !exemptions.some((e) => exempts(e, f)));
      return [s, { all: mine.length, afterStyle: afterStyle.length, afterAll: afterAll.length, checks: [...new Set(afterStyle.map((f) => f.check))].sort() }];
    }));
    return { source, workloads, per };
  });
  if (flag === '--json') {
    console.log(JSON.stringify(rows, null, 1));
    return;
  }
  const fmt = (n: number, w: number) => (w ? (n / w).toFixed(2) : '-');
  console.log(`| manifests | workloads | ${scanners.map((s) => `${s} all / non-style / unexplained per workload`).join(' | ')} |`);
  console.log(`|---|---|${scanners.map(() => '---').join('|')}|`);
  for (const r of rows) {
    console.log(`| ${r.source} | ${r.workloads} | ${scanners.map((s) => `${fmt(r.per[s].all, r.workloads)} / ${fmt(r.per[s].afterStyle, r.workloads)} / ${fmt(r.per[s].afterAll, r.workloads)}`).join(' | ')} |`);
  }
  for (const r of rows) {
    for (const s of scanners) if (r.per[s].checks.length) console.log(`${r.source} ${s} non-style checks: ${r.per[s].checks.join(', ')}`);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
