/**
 * The real helm against a real API server (test/harness/control-plane.ts): test/harness/helm.ts's runHelm keeps helm
 * away from any cluster on purpose, this runs it with a given kubeconfig.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HelmResult, helmBinary } from './helm';

/** Runs helm with `kubeconfig`; never rejects: check `code`. Helm's caches and config live in a temp folder. */
export function runHelmWithKubeconfig(kubeconfig: string, args: readonly string[]): Promise<HelmResult> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-helm-'));
  const started = performance.now();
  return new Promise<HelmResult>((resolve) => {
    execFile(helmBinary(), [...args], {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, KUBECONFIG: kubeconfig, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home },
    }, (err, stdout, stderr) => {
      fs.rmSync(home, { recursive: true, force: true });
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, ms: performance.now() - started });
    });
  });
}
