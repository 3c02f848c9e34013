/**
 * Patroni with the Kubernetes API as its DCS, against the real kube-apiserver (RBAC authorization): our
 * ServiceAccount, Role and RoleBinding applied, Pod objects for the members, and Patroni authenticating with that
 * ServiceAccount's token at the pod's in-cluster path, so a verb missing from the Role fails the test. The members
 * elect a leader, Patroni labels the pods, the -rw Service's selector picks the leader's pod; after kill -9 of the
 * leader another member takes the lock and the label, and the selector follows. Then a zone outage (issue 20): the
 * leader's zone is lost (its member killed, its Pod object deleted), and writes must succeed again through the -rw
 * Service's endpoints within the failover bound of docs/postgres.md.
 */
import { chownSync, copyFileSync, mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCluster } from '../../lib';
import { PATRONI } from '../../lib/defaults';
import { ControlPlane, startControlPlane } from '../harness/control-plane';
import { K8sObject, find, synth } from '../harness/synth';
import { PatroniCluster, restStatus, restStatusAsync } from '../postgres-patroni-cluster';
import { ROOT, psql, psqlRaw, sleep, waitFor } from '../postgres-processes';

const NS = 'shop';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

describe('Patroni on the Kubernetes DCS of a real API server (RBAC, our ServiceAccount)', () => {
  let cp: ControlPlane;
  let cluster: PatroniCluster;
  let objects: K8sObject[] = [];

  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await cp.request(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as K8sObject;
  };
  /** Names of the pods the -rw Service's selector matches, read from the API server. */
  const rwPods = async (): Promise<string[]> => {
    const selector = Object.entries(find(objects, 'Service', 'db-rw').spec.selector as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
    const list = await ok('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(selector)}`);
    return (list.items as K8sObject[]).map((p) => p.metadata.name).sort();
  };

  beforeAll(async () => {
    cp = await startControlPlane({ authorization: 'RBAC' });
    await cp.createNamespace(NS, { podSecurity: 'restricted' });
    objects = synth((chart) => new PostgresCluster(chart, 'db', {
      credentials: { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a' } },
      failover: 'patroni', maxConnections: 30, storage: { size: '1Gi' },
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    }), { namespace: NS });
    for (const [kind, plural, api] of [['ServiceAccount', 'serviceaccounts', '/api/v1'], ['Role', 'roles', '/apis/rbac.authorization.k8s.io/v1'], ['RoleBinding', 'rolebindings', '/apis/rbac.authorization.k8s.io/v1'], ['Service', 'services', '/api/v1']] as const) {
      for (const o of objects.filter((x) => x.kind === kind)) await ok('POST', `${api}/namespaces/${NS}/${plural}`, o);
    }
    // The member pods, as the StatefulSet controller would create them (no kubelet runs them: Patroni does, below).
    const sts = find(objects, 'StatefulSet', 'db');
    for (let i = 0; i < 3; i++) {
      const spec = { ...sts.spec.template.spec, hostname: `db-${i}`, subdomain: sts.spec.serviceName,
        volumes: [...sts.spec.template.spec.volumes, { name: 'data', persistentVolumeClaim: { claimName: `data-db-${i}` } }] };
      await ok('POST', `/api/v1/namespaces/${NS}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `db-${i}`, namespace: NS, labels: sts.spec.template.metadata.labels }, spec });
    }
    // The pod's projected ServiceAccount token, at its in-cluster path inside the test root.
    // /var/run is a symlink to /run inside the root: write through the root's /run, never the host's.
    const saDir = join(ROOT, SA_DIR.replace(/^\/var\/run\//, '/run/'));
    mkdirSync(saDir, { recursive: true });
    writeFileSync(join(saDir, 'token'), await cp.serviceAccountToken(NS, 'db-patroni'), { mode: 0o644 });
    copyFileSync(cp.caFile, join(saDir, 'ca.crt'));
    writeFileSync(join(saDir, 'namespace'), NS);
    for (const f of ['token', 'ca.crt', 'namespace']) chownSync(join(saDir, f), 0, 0);
    const port = Number(new URL(cp.url).port);
    cluster = new PatroniCluster(objects, 'db', 40, { host: '127.0.0.1', port, namespace: NS });
    await cluster.start(3);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await cp?.stop();
  });

  it('elects a leader through a ConfigMap lock and labels the pods, so -rw selects exactly the leader', async () => {
    const leader = await cluster.waitLeader(120_000);
    for (const m of cluster.members.filter((x) => x !== leader)) {
      await waitFor(`${m.name} streaming`, () => restStatus(m, '/replica') === 200, 90_000, 200)
        .catch((e) => { throw new Error(`${e.message}\n${m.server?.output.slice(-5000)}`); });
    }
    let pods: string[] = [];
    await waitFor('the -rw Service selector to match the leader', () => { void rwPods().then((p) => { pods = p; }); return pods.length === 1 && pods[0] === leader.name; }, 30_000, 200);
    const lock = await ok('GET', `/api/v1/namespaces/${NS}/configmaps/db-patroni-leader`);
    expect(lock.metadata.annotations.leader).toBe(leader.name);
    const roles = await ok('GET', `/api/v1/namespaces/${NS}/pods`);
    const byName = Object.fromEntries((roles.items as K8sObject[]).map((p) => [p.metadata.name, p.metadata.labels['scalecharts.io/role']]));
    console.log(`[patroni-k8s] leader ${leader.name}; pod roles ${JSON.stringify(byName)}`);
  }, 180_000);

  it('kill -9 of the leader: another member takes the lock and the primary label within ttl + margin', async () => {
    const old = cluster.leader()!;
    const t0 = performance.now();
    await cluster.killMember(old);
    const leader = await cluster.waitLeader(90_000, old);
    const promoted = performance.now() - t0;
    let pods: string[] = [];
    await waitFor('the -rw Service selector to follow', () => { void rwPods().then((p) => { pods = p; }); return pods.includes(leader.name); }, 30_000, 200);
    const relabelled = performance.now() - t0;
    console.log(`[patroni-k8s] kill -9 of ${old.name}: ${leader.name} leader after ${(promoted / 1000).toFixed(1)} s, -rw selector on it after ${(relabelled / 1000).toFixed(1)} s (ttl ${PATRONI.ttl} s); selector matches ${JSON.stringify(pods)}`);
    expect(promoted).toBeLessThan((PATRONI.ttl + PATRONI.loopWait) * 1000);
    // The dead member's pod keeps its last label until Kubernetes replaces the pod; readiness (Patroni's REST API)
    // keeps it out of the Service's endpoints meanwhile.
    expect(pods).toContain(leader.name);
  }, 180_000);

  it('zone outage of the leader\'s zone: writes succeed again through the -rw endpoints within ttl + loop_wait', async () => {
    // The members spread one per zone (required node anti-affinity and the zone spread), so a zone outage takes one
    // member; the worst case is the leader's. First the previous step's victim rejoins, so three members run again.
    for (const m of cluster.members.filter((x) => !x.server?.running)) cluster.startMember(m);
    const leader = await cluster.waitLeader(60_000);
    for (const m of cluster.members.filter((x) => x !== leader)) {
      await waitFor(`${m.name} streaming again`, () => restStatus(m, '/replica') === 200, 120_000, 200)
        .catch((e) => { throw new Error(`${e.message}\n${m.server?.output.slice(-5000)}`); });
    }
    psql(cluster.su(leader), 'CREATE TABLE IF NOT EXISTS outage_writes (id serial PRIMARY KEY, at timestamptz DEFAULT now())');
    /**
     * The -rw Service's endpoints as the EndpointSlice controller computes them: the pods its selector matches whose
     * readiness (the pod's probe: Patroni's /readiness) passes. No kubelet runs here, so the test asks the members.
     */
    const rwEndpoints = async (): Promise<typeof cluster.members> => {
      const names = await rwPods();
      const members = cluster.members.filter((m) => names.includes(m.name) && m.server?.running);
      const ready = await Promise.all(members.map(async (m) => (await restStatusAsync(m, '/readiness')) === 200));
      return members.filter((_, i) => ready[i]);
    };
    const t0 = performance.now();
    await cluster.killMember(leader);
    // The node lifecycle controller deletes the pods of a lost node; the StatefulSet's replacement waits for its zone.
    await ok('DELETE', `/api/v1/namespaces/${NS}/pods/${leader.name}?gracePeriodSeconds=0`);
    let writer: string | undefined;
    let attempts = 0;
    while (!writer && performance.now() - t0 < 90_000) {
      for (const m of await rwEndpoints()) {
        attempts += 1;
        if (psqlRaw(cluster.su(m), 'INSERT INTO outage_writes DEFAULT VALUES', 3_000).status === 0) { writer = m.name; break; }
      }
      if (!writer) await sleep(200);
    }
    const back = performance.now() - t0;
    console.log(`[patroni-k8s] zone outage of ${leader.name} (leader): writes back through the -rw endpoints on ${writer ?? 'NONE'} after ${(back / 1000).toFixed(1)} s (${attempts} write attempts on endpoints; bound ttl + loop_wait = ${PATRONI.ttl + PATRONI.loopWait} s)`);
    expect(writer, 'no write succeeded through the -rw endpoints within 90 s').toBeDefined();
    expect(writer).not.toBe(leader.name);
    expect(back).toBeLessThan((PATRONI.ttl + PATRONI.loopWait) * 1000);
  }, 300_000);
});
