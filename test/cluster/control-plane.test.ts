/**
 * The control-plane harness itself (test/harness/control-plane.ts): it starts, authenticates and authorizes as
 * documented, its kubeconfig works for the real helm, and stop() leaves no process and no folder behind.
 */
import * as fs from 'fs';
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

  it('AlwaysAllow mode lets any token user do anything; stop() kills both processes and removes the folder', async () => {
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
    await cp.stop();
    expect(fs.existsSync(cp.dir)).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(pids.filter(alive)).toEqual([]);
  });
});
