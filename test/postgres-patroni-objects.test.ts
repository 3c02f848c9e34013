/** The objects of `failover: 'patroni'` (lib/postgres/patroni.ts): topology, least-privilege RBAC, routing, budgets. */
import { describe, expect, it } from 'vitest';
import { PostgresCluster, PostgresClusterProps, Presets, TIERS } from '../lib';
import { PATRONI } from '../lib/defaults';
import { PATRONI_RULES } from '../lib/postgres/patroni';
import { expectValidationError } from './harness/errors';
import { K8sObject, build, find, findAll, synth } from './harness/synth';

const CREDENTIALS: PostgresClusterProps['credentials'] = {
  superuser: { secretName: 'db-su' }, replication: { secretName: 'db-repl' }, app: { secretName: 'db-app' },
};

function cluster(props: Partial<PostgresClusterProps> = {}): K8sObject[] {
  return synth((chart) => new PostgresCluster(chart, 'db', { credentials: CREDENTIALS, failover: 'patroni', metrics: true, ...props }), { namespace: 'shop' });
}

describe("PostgresCluster failover: 'patroni'", () => {
  const objects = cluster();
  const sts = find(objects, 'StatefulSet', 'db');
  const pod = sts.spec.template.spec;
  const main = pod.containers[0];

  it('runs replicas + 1 Patroni members in one StatefulSet, with the Spilo image and our ServiceAccount token', () => {
    expect(findAll(objects, 'StatefulSet').map((s) => s.metadata.name)).toEqual(['db']);
    expect(sts.spec.replicas).toBe(3);
    expect(main.image).toBe(PATRONI.image);
    expect(main.command).toEqual(['patroni', '/var/run/postgresql/patroni.yml']);
    expect(pod.serviceAccountName).toBe('db-patroni');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.securityContext.runAsUser).toBe(PATRONI.uid);
    expect(main.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  it('grants Patroni only ConfigMaps and pods, without delete or Secrets', () => {
    const role = find(objects, 'Role', 'db-patroni');
    expect(role.rules).toEqual(JSON.parse(JSON.stringify(PATRONI_RULES)));
    const verbs = role.rules.flatMap((r: K8sObject) => r.verbs);
    expect(verbs).not.toContain('delete');
    expect(verbs).not.toContain('*');
    expect(role.rules.flatMap((r: K8sObject) => r.resources).sort()).toEqual(['configmaps', 'pods']);
    expect(find(objects, 'RoleBinding', 'db-patroni')).toMatchObject({ roleRef: { kind: 'Role', name: 'db-patroni' }, subjects: [{ kind: 'ServiceAccount', name: 'db-patroni' }] });
  });

  it('routes -rw to the leader and -ro to the replicas through the role label Patroni moves', () => {
    expect(find(objects, 'Service', 'db-rw').spec.selector).toEqual({ 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'db', 'scalecharts.io/role': 'primary' });
    expect(find(objects, 'Service', 'db-ro').spec.selector).toEqual({ 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'db', 'scalecharts.io/role': 'replica' });
    const env = Object.fromEntries(main.env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({ PATRONI_KUBERNETES_ROLE_LABEL: 'scalecharts.io/role', PATRONI_KUBERNETES_USE_ENDPOINTS: 'false', PATRONI_SCOPE: 'db-patroni', PATRONI_KUBERNETES_LABELS: '{"app.kubernetes.io/name":"db"}' });
    expect(sts.spec.template.metadata.labels['scalecharts.io/patroni-scope']).toBe('db-patroni');
  });

  it('one disruption budget over every member, whatever its role: one member down at a time (issue 20)', () => {
    const pdbs = findAll(objects, 'PodDisruptionBudget').filter((p) => p.metadata.name !== 'db-pooler');
    // Not per role: a role budget that lets the leader go lets a drain take the leader and a replica at once, and a
    // promotion moves a pod between role budgets (test/cluster/charts.test.ts saw the replicas' budget at 0 of 1).
    expect(pdbs.map((p) => [p.metadata.name, p.spec.selector.matchLabels, p.spec.maxUnavailable, p.spec.minAvailable])).toEqual([
      ['db', sts.spec.selector.matchLabels, 1, undefined],
    ]);
    // The budget selects exactly the StatefulSet's pods, so Kubernetes counts its scale (the members) as expected pods.
    expect(sts.spec.template.metadata.labels).toMatchObject(pdbs[0].spec.selector.matchLabels);
    expect(pdbs[0].spec.selector.matchLabels).not.toHaveProperty(['scalecharts.io/role']);
  });

  it('keeps passwords out of env and ConfigMaps; probes on the REST API; switchover in preStop', () => {
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(JSON.stringify(c.env ?? []), c.name).not.toMatch(/secretKeyRef|PASSWORD"/);
    }
    const yml = find(objects, 'ConfigMap', 'db-config').data['patroni.yml'];
    expect(yml).toContain('password: "${SUPERUSER_PASSWORD}"');
    expect(yml).toMatch(/ttl: 30\n/);
    expect(yml).toMatch(/synchronous_mode: false\n/);
    expect(main.livenessProbe.httpGet).toMatchObject({ path: '/liveness' });
    expect(main.readinessProbe.httpGet).toMatchObject({ path: '/readiness' });
    expect(main.lifecycle.preStop.exec.command).toEqual(['bash', '/etc/postgresql-cluster/patroni-pre-stop.sh']);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(60);
  });

  it('lets members reach each other\'s REST API through the NetworkPolicy (on by default)', () => {
    const ingress = find(objects, 'NetworkPolicy', 'db').spec.ingress;
    expect(ingress).toContainEqual({ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'db' } } }], ports: [{ protocol: 'TCP', port: 8008 }] });
  });

  it('renders synchronous mode and validates the timing rule', () => {
    expect(find(cluster({ patroni: { synchronous: true } }), 'ConfigMap', 'db-config').data['patroni.yml']).toMatch(/synchronous_mode: quorum\n/);
    const make = (props: Partial<PostgresClusterProps>) => () => build((chart) => new PostgresCluster(chart, 'db', { credentials: CREDENTIALS, failover: 'patroni', ...props }));
    expectValidationError(make({ patroni: { ttl: 20 } }), { path: 'test/db', property: 'patroni.ttl', value: 20, allowed: /loopWait \+ 2 × retryTimeout = 30/ });
    expectValidationError(make({ failover: 'auto' as never }), { path: 'test/db', property: 'failover', value: 'auto' });
    expectValidationError(make({ patroni: { synchronous: 'yes' as never } }), { path: 'test/db', property: 'patroni.synchronous', value: 'yes' });
  });
});

describe('Patroni is the default (issue 15)', () => {
  const names = (objects: K8sObject[]) => findAll(objects, 'StatefulSet').map((s) => s.metadata.name);
  const plain = (props: Partial<PostgresClusterProps> = {}) => synth((chart) => new PostgresCluster(chart, 'db', { credentials: CREDENTIALS, ...props }));

  it('builds the Patroni members, RBAC and one members budget without any failover prop', () => {
    const objects = plain();
    expect(names(objects)).toEqual(['db']);
    expect(find(objects, 'StatefulSet', 'db').spec.replicas).toBe(3);
    expect(find(objects, 'Role', 'db-patroni').rules).toEqual(JSON.parse(JSON.stringify(PATRONI_RULES)));
    expect(findAll(objects, 'PodDisruptionBudget').map((p) => p.metadata.name).sort()).toEqual(['db', 'db-pooler']);
  });

  it("keeps 'none' as a named option: primary and replica StatefulSets, one budget", () => {
    const objects = plain({ failover: 'none' });
    expect(names(objects)).toEqual(['db-primary', 'db-replica']);
    expect(findAll(objects, 'Role')).toEqual([]);
    expect(findAll(objects, 'PodDisruptionBudget').map((p) => p.metadata.name).sort()).toEqual(['db', 'db-pooler']);
  });

  it("a preset may choose 'none' for every cluster under it; the prop still wins", () => {
    const objects = synth((chart) => {
      Presets.apply(chart, { postgres: { failover: 'none' } });
      new PostgresCluster(chart, 'a', { credentials: CREDENTIALS });
      new PostgresCluster(chart, 'b', { credentials: CREDENTIALS, failover: 'patroni' });
    });
    expect(names(objects)).toEqual(['a-primary', 'a-replica', 'b']);
    expectValidationError(() => build((chart) => {
      Presets.apply(chart, { postgres: { failover: 'auto' as never } });
    }), { path: 'test', property: 'preset.postgres.failover', value: 'auto' });
  });

  it('the development tier runs a single Patroni member with the same objects as production', () => {
    const objects = synth((chart) => {
      Presets.apply(chart, TIERS.development);
      new PostgresCluster(chart, 'db', { credentials: CREDENTIALS });
    });
    const sts = find(objects, 'StatefulSet', 'db');
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.template.spec.serviceAccountName).toBe('db-patroni');
    // No replicas: no -ro Service and no replica alerts, but the member keeps its budget and the rw Service.
    expect(findAll(objects, 'Service').map((s) => s.metadata.name).sort()).toEqual(['db-headless', 'db-pooler', 'db-rw']);
    expect(findAll(objects, 'PodDisruptionBudget').map((p) => p.metadata.name).sort()).toEqual(['db', 'db-pooler']);
  });

  it('starts and recreates members in parallel: Patroni orders them itself (issue 20)', () => {
    expect(find(plain(), 'StatefulSet', 'db').spec.podManagementPolicy).toBe('Parallel');
  });
});
