/**
 * The control-plane harness itself (test/harness/control-plane.ts): it starts, authenticates and authorizes as
 * documented, its kubeconfig works for the real helm, and stop() leaves no process and no folder behind.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane, kubeToolsPath, startControlPlane, warningText } from '../harness/control-plane';
import { runHelmWithKubeconfig } from '../harness/helm-cluster';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('control-plane harness', () => {
  it('kubeToolsPath names the missing binary and how to build it', () => {
    expect(() => kubeToolsPath('no-such-tool')).toThrow(/no-such-tool is not built in .*setup-kube\.sh/);
  });

  it('parses Warning header texts', () => {
    expect(warningText('299 - "would violate PodSecurity \\"restricted:v1.28\\": x"'))
      .toBe('would violate PodSecurity "restricted:v1.28": x');
  });

  describe('RBAC mode', () => {
    let cp: ControlPlane;
    beforeAll(async () => {
      cp = await startControlPlane({ authorization: 'RBAC', users: [{ name: 'alice', groups: ['team-a'] }] });
      console.log(`control plane (RBAC) ready in ${cp.startupMs} ms`);
    });
    afterAll(async () => cp?.stop());

    it('admin may do everything; a token user only what RBAC grants; no token is anonymous', async () => {
      expect((await cp.request('GET', '/api/v1/namespaces')).status).toBe(200);
      expect((await cp.request('GET', '/api/v1/namespaces', undefined, { token: cp.tokens.alice })).status).toBe(403);
      expect((await cp.request('GET', '/api/v1/namespaces', undefined, { token: 'wrong' })).status).toBe(401);
      const review = await cp.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, { token: cp.tokens.alice });
      expect(review.body.status.userInfo).toMatchObject({ username: 'alice', groups: expect.arrayContaining(['team-a']) });
    });

    it('createNamespace labels Pod Security and creates the default ServiceAccount; TokenRequest tokens authenticate', async () => {
      await cp.createNamespace('ps', { podSecurity: 'restricted' });
      const ns = await cp.request('GET', '/api/v1/namespaces/ps');
      expect(ns.body.metadata.labels).toMatchObject({
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.28',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      });
      const token = await cp.serviceAccountToken('ps', 'default');
      const r = await cp.request('GET', '/api/v1/namespaces/ps/configmaps', undefined, { token });
      expect(r.status).toBe(403);
      expect(r.body.message).toContain('system:serviceaccount:ps:default');
    });

    it('the kubeconfig works for the real helm', async () => {
      const r = await runHelmWithKubeconfig(cp.kubeconfig(), ['list', '--all-namespaces', '-o', 'json']);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual([]);
    });
  });

  it('AlwaysAllow mode lets any token user do anything; stop() kills every process (components too) and removes the folder', async () => {
    const cp = await startControlPlane({ users: [{ name: 'bob' }] });
    expect((await cp.request('GET', '/api/v1/namespaces', undefined, { token: cp.tokens.bob })).status).toBe(200);
    const pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(cp.dir);
      } catch {
        return false;
      }
    });
    expect(pids.length).toBeGreaterThanOrEqual(2); // etcd, kube-apiserver (and the watchdog's shell)
    // A component started through the harness dies with it too.
    const component = cp.startComponent('sleeper', ['300'], '/bin/sleep');
    expect(alive(component.pid!)).toBe(true);
    pids.push(component.pid!);
    await cp.stop();
    expect(fs.existsSync(cp.dir)).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(pids.filter(alive)).toEqual([]);
  });

  it('a test process killed with SIGKILL leaves no process and no folder behind (the watchdog)', async () => {
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-cp-victim-')), 'victim.ts');
    fs.writeFileSync(script, `import { startControlPlane } from ${JSON.stringify(path.resolve(__dirname, '../harness/control-plane'))};
startControlPlane().then((cp) => {
  const c = cp.startComponent('sleeper', ['300'], '/bin/sleep');
  console.log(JSON.stringify({ dir: cp.dir, pids: fs.readFileSync(cp.dir + '/pids', 'utf8').trim().split(' ').map(Number), component: c.pid }));
  setInterval(() => {}, 1000);
});
import * as fs from 'fs';
`);
    const victim = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const started = await new Promise<{ dir: string; pids: number[]; component: number }>((resolve, reject) => {
      let out = '';
      victim.stdout!.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
      });
      victim.once('exit', (code) => reject(new Error(`victim exited ${code}`)));
    });
    expect(started.pids.length).toBe(3); // etcd, kube-apiserver, the component
    expect(started.pids.every(alive)).toBe(true);
    victim.kill('SIGKILL');
    const deadline = Date.now() + 15000;
    while ((started.pids.some(alive) || fs.existsSync(started.dir)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(started.pids.filter(alive)).toEqual([]);
    expect(fs.existsSync(started.dir)).toBe(false);
    fs.rmSync(path.dirname(script), { recursive: true, force: true });
  });
});
