/**
 * Every example chart, installed for real on the simulated cluster (test/cluster/sim-cluster.ts: real control plane,
 * controller-manager and scheduler, kwok's 9 fake nodes in 3 zones, zonal volumes): `helm install --wait`,
 * `helm upgrade` with changed values, `helm rollback`, a second release in the same namespace, a node drain through
 * the Eviction API and a zone outage. Each step prints a report and asserts: pods scheduled and Ready, spread per
 * zone and node, the HPA floor reached when `--wait` returns, no Secret shared between releases, evictions allowed
 * and refused per PDB with no PDB ever below its budget, and Ready replicas per workload after the outage (members
 * pinned to the lost zone's volumes reported).
 *
 * Postgres clusters run Patroni by default: kwok runs no container, so test/cluster/patroni-standin.ts plays
 * Patroni's part on the pod role labels (no real election, no data); after the zone outage the test asserts what a
 * simulated cluster can show: every member ordinal recreated (podManagementPolicy Parallel), one Ready member holding
 * the primary role the -rw Service selects, and the cluster's one budget spent on the lost member. The real failover timing and
 * "writes back within the bound" are test/postgres-patroni.test.ts and test/cluster/postgres-patroni-k8s.test.ts.
 *
 * SIM_CHARTS=orders,ida limits the run to some examples (default: all). docs/cluster-tests.md has the timings.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../examples';
import { HelmChart, writeHelmChart } from '../../lib/helm';
import { ROLE_LABEL, SCOPE_LABEL } from '../../lib/postgres/patroni';
import { PatroniStandIn, startPatroniStandIn } from './patroni-standin';
import { Obj, SimCluster, startSimCluster } from './sim-cluster';
import {
  PodSeen, WorkloadInfo, claimZone, drain, isReady, pdbs, recordPods, secretsReadBy, skew, sleep, spreadOf, waitSettled, workloads, zoneOutage,
} from './sim-report';

const ZONES = ['zone-a', 'zone-b', 'zone-c'];
/** Per step: every chart's helm call (up to 6 min with --wait) runs CONCURRENCY at a time. */
const STEP_TIMEOUT = 20 * 60 * 1000;
const CONCURRENCY = Number(process.env.SIM_CONCURRENCY ?? 4);
const selected = (process.env.SIM_CHARTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const names = selected.length > 0 ? selected : Object.keys(EXAMPLES);

interface Target {
  readonly example: string;
  readonly namespace: string;
  readonly dir: string;
  readonly chart: HelmChart;
  readonly timings: Record<string, number>;
}

/** Runs `fn` over `items`, `CONCURRENCY` at a time. */
async function pool<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

const row = (w: WorkloadInfo) => `${w.kind}/${w.name}`.padEnd(44);

/** Migration hooks of a chart that wait for a database of the same chart (post-install,pre-upgrade). */
const migrationHooks = (t: Target) => t.chart.model.hooks.filter((h) => h.kind === 'Job' && h.hook === 'post-install,pre-upgrade' && h.dependsOn.some((d) => d.startsWith('Service/')));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe('every example chart on the simulated cluster', () => {
  let sim: SimCluster;
  let patroni: PatroniStandIn | undefined;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-sim-'));
  const targets: Target[] = [];
  const namespaces = () => [...new Set(targets.map((t) => t.namespace))];
  const started = Date.now();

  beforeAll(async () => {
    const charts = names.map((example) => {
      const build = EXAMPLES[example];
      if (!build) throw new Error(`SIM_CHARTS: no example ${example} (known: ${Object.keys(EXAMPLES).join(', ')})`);
      return { example, cdk8s: build(new App({ outdir: path.join(root, 'dist') })) as Chart };
    });
    // The node pools the charts' presets select (acme's `acme.io/pool: apps`): every fake node is in all of them.
    const nodeLabels: Record<string, string> = {};
    for (const { cdk8s } of charts) {
      for (const o of cdk8s.toJson()) Object.assign(nodeLabels, o.spec?.template?.spec?.nodeSelector ?? {});
    }
    sim = await startSimCluster({ nodeLabels });
    console.log(`[sim] cluster ready in ${sim.startupMs} ms; node pool labels ${JSON.stringify(nodeLabels)}`);
    patroni = startPatroniStandIn(sim, namespaces);
    for (const { example, cdk8s } of charts) {
      const dir = path.join(root, example);
      const chart = writeHelmChart(cdk8s, dir, { version: '1.0.0' });
      const namespace = chart.model.namespace ?? example.toLowerCase();
      if (!targets.some((t) => t.namespace === namespace)) await sim.cp.createNamespace(namespace, { podSecurity: 'restricted' });
      // What a chart user creates before installing (README, "Secrets to create"): values only they have, read by a
      // release as `<release>-<name>` (releases r1 and r2 below).
      for (const s of chart.model.externalSecrets) {
        for (const release of ['r1', 'r2']) {
          const r = await sim.cp.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
            apiVersion: 'v1', kind: 'Secret', metadata: { name: `${release}-${s.name}` },
            stringData: Object.fromEntries((s.keys.length ? s.keys : ['value']).map((k) => [k, `user-provided-${k}`])),
          });
          if (r.status !== 201 && r.status !== 409) throw new Error(`secret ${release}-${s.name}: HTTP ${r.status}`);
        }
      }
      targets.push({ example, namespace, dir, chart, timings: {} });
    }
  }, 5 * 60 * 1000);

  afterAll(async () => {
    for (const t of targets) console.log(`[sim] ${t.example}: ${Object.entries(t.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
    console.log(`[sim] tier total ${((Date.now() - started) / 1000).toFixed(0)} s for ${targets.length} charts`);
    if (process.env.SIM_KEEP_LOGS) console.log(sim?.log('kube-scheduler', 80));
    await patroni?.stop();
    await sim?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const helm = async (t: Target, step: string, args: string[]) => {
    const t0 = Date.now();
    const r = await sim.helm([...args, '--namespace', t.namespace, '--wait', '--timeout', '6m']);
    t.timings[step] = Date.now() - t0;
    expect(r.code, `${t.example} ${step}: ${r.stderr}`).toBe(0);
  };

  it('installs each chart with --wait: every pod scheduled and Ready, HPA floors reached when --wait returns', async () => {
    const report: string[] = [];
    const order: string[] = [];
    await pool(targets, async (t) => {
      const recorder = migrationHooks(t).length > 0 ? recordPods(sim, t.namespace, 'r1-') : undefined;
      await helm(t, 'install', ['install', 'r1', t.dir]);
      if (recorder) {
        // First install: each migration pod starts only once every pod of the release, its database's included, is Ready.
        const pods = await recorder.stop();
        for (const h of migrationHooks(t)) {
          const job = pods.filter((p) => p.owner === `Job/r1-${h.name}`);
          const rest = pods.filter((p) => !p.owner.startsWith('Job/'));
          expect(job.length, `${t.example}: pods of the migration ${h.name} seen`).toBeGreaterThan(0);
          const start = Math.min(...job.map((p) => p.firstSeen));
          const lastReady = Math.max(...rest.map((p) => p.readyAt ?? Infinity));
          order.push(`${t.example} ${h.name}: ${rest.length} pods of the release Ready, the last at +${seconds(lastReady - Math.min(...rest.map((p) => p.firstSeen)))}; `
            + `migration pod first seen ${seconds(start - lastReady)} later, Succeeded ${job[0].succeededAt ? seconds(job[0].succeededAt - start) : '(not seen)'} after`);
          expect(rest.filter((p) => p.readyAt === undefined || p.readyAt > start).map((p) => p.name), `${t.example}: not Ready before the migration started`).toEqual([]);
        }
      }
      const ws = await workloads(sim, t.namespace, 'r1'); // right as --wait returned
      expect(ws.length, t.example).toBeGreaterThan(0);
      for (const w of ws) {
        report.push(`${t.example.padEnd(12)} ${row(w)} ready ${w.ready}/${w.desired}${w.minReplicas !== undefined ? ` (HPA min ${w.minReplicas})` : ''} zones ${JSON.stringify(spreadOf(w, ZONES).zones)}`);
        expect(w.pods.filter((p) => !p.node), `${t.example} ${w.name} unscheduled`).toEqual([]);
        expect(w.ready, `${t.example} ${w.name}`).toBe(w.desired);
        if (w.minReplicas !== undefined) expect(w.ready, `${t.example} ${w.name} below its HPA floor after --wait`).toBeGreaterThanOrEqual(w.minReplicas);
      }
    });
    console.log(`[sim] after install\n${report.sort().join('\n')}`);
    if (order.length > 0) console.log(`[sim] migration order on first install\n${order.join('\n')}`);
    // ciel holds its database and a migration against it: the proof must not silently have nothing to check.
    if (names.includes('ciel')) expect(order.some((l) => l.startsWith('ciel ')), 'ciel migration observed').toBe(true);
  }, STEP_TIMEOUT);

  it('upgrades with changed values (new image tags of the Deployments) and rolls back; the zone spread holds', async () => {
    const report: string[] = [];
    const order: string[] = [];
    await pool(targets, async (t) => {
      const tags = t.chart.model.values.filter((v) => v.path.endsWith('.image.tag') && v.targets.some((x) => x.kind === 'Deployment') && !v.targets.some((x) => x.kind === 'StatefulSet'));
      const before = new Set((await sim.list(`/apis/apps/v1/namespaces/${t.namespace}/replicasets`)).map((r) => `ReplicaSet/${r.metadata.name}`));
      const recorder = migrationHooks(t).length > 0 ? recordPods(sim, t.namespace, 'r1-') : undefined;
      await helm(t, 'upgrade', ['upgrade', 'r1', t.dir, ...tags.flatMap((v) => ['--set-string', `${v.path}=${String(v.default)}-r2`])]);
      if (recorder) {
        // Upgrade: the migration has finished before the first pod of any new ReplicaSet exists.
        const pods = await recorder.stop();
        const fresh = pods.filter((p) => p.owner.startsWith('ReplicaSet/') && !before.has(p.owner));
        expect(fresh.length, `${t.example}: new pods after the upgrade`).toBeGreaterThan(0);
        const firstNew = Math.min(...fresh.map((p) => p.firstSeen));
        for (const h of migrationHooks(t)) {
          const job: PodSeen[] = pods.filter((p) => p.owner === `Job/r1-${h.name}`);
          expect(job.length, `${t.example}: pods of the migration ${h.name} seen on upgrade`).toBeGreaterThan(0);
          const done = Math.max(...job.map((p) => p.succeededAt ?? p.firstSeen));
          order.push(`${t.example} ${h.name}: migration pod seen, Succeeded ${seconds(firstNew - done)} before the first of ${fresh.length} new pods`);
          expect(done, `${t.example}: a new pod started before the migration ${h.name} finished`).toBeLessThanOrEqual(firstNew);
        }
      }
      const upgraded = await sim.list(`/apis/apps/v1/namespaces/${t.namespace}/deployments`, { labelSelector: 'app.kubernetes.io/instance=r1' });
      for (const v of tags) {
        for (const target of v.targets.filter((x) => x.kind === 'Deployment')) {
          const d = upgraded.find((x) => x.metadata.name === `r1-${target.name}`);
          expect(JSON.stringify(d?.spec.template.spec.containers), `${t.example} ${target.name}`).toContain(`:${String(v.default)}-r2"`);
        }
      }
      await helm(t, 'rollback', ['rollback', 'r1', '1']);
      expect(await waitSettled(sim, t.namespace, 120000), `${t.example} settles after rollback`).toBe(true);
      for (const w of await workloads(sim, t.namespace, 'r1')) {
        const { zones, nodes } = spreadOf(w, ZONES);
        report.push(`${t.example.padEnd(12)} ${row(w)} ready ${w.ready}/${w.desired} zones ${Object.values(zones).join('/')} nodes ${Object.keys(nodes).length}`);
        expect(w.ready, `${t.example} ${w.name}`).toBe(w.desired);
        // matchLabelKeys pod-template-hash: only the live ReplicaSet's pods count, so the rollout leaves no skew.
        if (w.desired >= ZONES.length) expect(skew(zones), `${t.example} ${w.name} zones ${JSON.stringify(zones)}`).toBeLessThanOrEqual(1);
        if (w.ready > 0) expect(Math.max(...Object.values(nodes)), `${t.example} ${w.name} two pods on one node`).toBe(1);
      }
    });
    console.log(`[sim] after upgrade + rollback\n${report.sort().join('\n')}`);
    if (order.length > 0) console.log(`[sim] migration order on upgrade\n${order.join('\n')}`);
    if (names.includes('ciel')) expect(order.some((l) => l.startsWith('ciel ')), 'ciel migration observed on upgrade').toBe(true);
  }, STEP_TIMEOUT);

  it('installs a second release beside the first: no Secret shared, not even those the user brings', async () => {
    const report: string[] = [];
    await pool(targets, async (t) => {
      await helm(t, 'second release', ['install', 'r2', t.dir]);
      for (const w of await workloads(sim, t.namespace, 'r2')) expect(w.ready, `${t.example} r2 ${w.name}`).toBe(w.desired);
      const [a, b] = [await secretsReadBy(sim, t.namespace, 'r1'), await secretsReadBy(sim, t.namespace, 'r2')];
      const shared = [...a].filter((s) => b.has(s));
      report.push(`${t.example.padEnd(12)} r1 reads ${a.size} Secrets, r2 ${b.size}; shared: ${shared.join(', ') || 'none'}`);
      // Not even the Secrets the user brings: a chart reads them as <release>-<name>.
      expect(shared, t.example).toEqual([]);
      for (const g of t.chart.model.generatedSecrets) {
        const [s1, s2] = await Promise.all(['r1', 'r2'].map((r) => sim.api('GET', `/api/v1/namespaces/${t.namespace}/secrets/${r}-${g.name}`)));
        expect(s1.data, `${t.example} ${g.name}`).not.toEqual(s2.data);
      }
    });
    console.log(`[sim] second release\n${report.sort().join('\n')}`);
  }, STEP_TIMEOUT);

  it('drains the two busiest nodes of two zones at once through the Eviction API: PDBs refuse, hold, and every stateless pod moves', async () => {
    const pods = await sim.list('/api/v1/pods');
    const count = new Map<string, number>();
    for (const p of pods) if (namespaces().includes(p.metadata.namespace) && p.spec.nodeName) count.set(p.spec.nodeName, (count.get(p.spec.nodeName) ?? 0) + 1);
    const zoneOf = new Map(sim.nodes.map((n) => [n.name, n.zone]));
    const busiest = [...count].sort((a, b) => b[1] - a[1]).map(([n]) => n);
    const nodes = [busiest[0], busiest.find((n) => zoneOf.get(n) !== zoneOf.get(busiest[0]))!];
    // The Patroni role labels are on (the -rw and -ro Services select by them).
    await patroni!.tick();
    // Every PDB selects pods, except those of a worker pool scaled to zero.
    const idle = (await sim.list('/apis/apps/v1/deployments')).filter((d) => d.spec.replicas === 0).map((d) => `${d.metadata.namespace}/${d.metadata.name}`);
    for (const s of await pdbs(sim, namespaces())) {
      if (!idle.includes(`${s.namespace}/${s.name}`)) expect(s.expectedPods, `PDB ${s.namespace}/${s.name} selects no pod`).toBeGreaterThan(0);
    }
    const result = await drain(sim, nodes, namespaces(), 180000);
    const lines = Object.entries(result.byPdb).sort().map(([k, v]) => `${k.padEnd(48)} allowed ${v.allowed} refused ${v.refused}${v.blocked.length ? ` BLOCKED ${v.blocked.join(', ')}` : ''}`);
    console.log(`[sim] drain of ${nodes.map((n) => `${n} (${count.get(n)} pods)`).join(' and ')} in ${(result.ms / 1000).toFixed(1)} s\n${lines.join('\n')}`);
    expect(result.violations, 'PDBs below their desired healthy count').toEqual([]);
    const stuck = Object.values(result.byPdb).flatMap((v) => v.blocked).filter((b) => b.endsWith('(ReplicaSet)'));
    expect(stuck, 'stateless pods never evicted').toEqual([]);
    if (targets.length >= 2) expect(Object.values(result.byPdb).reduce((n, v) => n + v.refused, 0), 'no PDB refused an eviction').toBeGreaterThan(0);
    for (const node of nodes) await sim.cordon(node, false);
    await Promise.all(namespaces().map((ns) => waitSettled(sim, ns, 60000)));
  }, STEP_TIMEOUT);

  it('survives a zone outage: every workload back to full Ready, except members pinned to the lost zone\'s volumes', async () => {
    // Patroni members (pod template with the scope label): Parallel pod management, roles played by the stand-in.
    const patroniSets = new Set((await sim.list('/apis/apps/v1/statefulsets'))
      .filter((s) => namespaces().includes(s.metadata.namespace) && s.spec.template.metadata.labels?.[SCOPE_LABEL])
      .map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
    const leadersBefore = await leaders(sim, namespaces());
    const deleted = await zoneOutage(sim, 'zone-a', namespaces());
    const outageAt = Date.now();
    // Until every workload is back (ready + pinned = desired) or 120 s: controllers recreate, the scheduler places
    // and kwok readies pods in seconds, slower on a loaded machine. Pinned members never come back.
    let report: string[] = [];
    let missing: string[] = [];
    do {
      await sleep(3000);
      report = [];
      missing = [];
      for (const t of targets) {
        for (const release of ['r1', 'r2']) {
          for (const w of await workloads(sim, t.namespace, release)) {
            const pinned: string[] = [];
            for (const p of w.pods.filter((x) => !x.ready)) {
              for (const c of p.claims) if (await claimZone(sim, t.namespace, c) === 'zone-a') pinned.push(p.name);
            }
            // OrderedReady: the StatefulSet controller recreates no higher ordinal while a lower one is Pending.
            const blocked = w.kind === 'StatefulSet' && pinned.length > 0 ? w.desired - w.pods.length : 0;
            // Patroni members are Parallel: every ordinal is recreated, whatever a lower one waits for (issue 20).
            if (patroniSets.has(`${t.namespace}/${w.name}`) && w.pods.length !== w.desired) {
              missing.push(`${t.example} ${w.name}: Patroni members not all recreated (${w.pods.length} of ${w.desired} pods)`);
            }
            const { zones } = spreadOf(w, ZONES);
            report.push(`${t.example.padEnd(12)} ${row(w)} ready ${w.ready}/${w.desired} zones ${Object.values(zones).join('/')}`
              + `${pinned.length ? ` pinned to zone-a: ${pinned.join(', ')}` : ''}${blocked ? `; ${blocked} more not recreated behind it (OrderedReady)` : ''}`);
            if (w.ready + pinned.length + blocked !== w.desired || (w.kind === 'Deployment' && pinned.length > 0)) {
              missing.push(`${t.example} ${w.kind}/${w.name} ready ${w.ready} pinned ${pinned.length} of ${w.desired}: ${JSON.stringify(w.pods.filter((p) => !p.ready))}`);
            }
          }
        }
      }
    } while (missing.length > 0 && Date.now() - outageAt < 120000);
    console.log(`[sim] zone-a outage: back in ${((Date.now() - outageAt) / 1000).toFixed(0)} s`);
    expect(missing, 'workloads not back to full Ready (pinned members aside)').toEqual([]);
    const writesDown = report.filter((l) => /StatefulSet\/\S+-primary .* pinned to zone-a/.test(l)).map((l) => l.split(/\s+/)[1]);
    console.log(`[sim] zone-a outage (${deleted} pods deleted, zone cordoned)\n${report.join('\n')}\n` +
      `Postgres primaries without failover pinned to zone-a (writes down): ${writesDown.join(', ') || 'none'}`);

    // Every Patroni cluster: one Ready member holds the primary role, so its -rw Service selects a Ready pod, and each
    // budget is spent while a member is lost. The stand-in relabels at once; real Patroni takes up to ttl + loop_wait (40 s).
    await patroni!.tick();
    const after = await leaders(sim, namespaces());
    const lines: string[] = [];
    for (const [key, before] of leadersBefore) {
      const now = after.get(key);
      const moved = before.pod !== now?.pod;
      lines.push(`${key.padEnd(36)} leader ${before.pod} (${before.zone}) → ${now ? `${now.pod} (${now.zone})` : 'NONE'}${moved ? ' [failover]' : ''}`);
      expect(now, `${key}: no Ready member holds the primary role after the outage`).toBeDefined();
      expect(now!.zone, key).not.toBe('zone-a');
      const [ns, sts] = key.split('/');
      const rw = await sim.api('GET', `/api/v1/namespaces/${ns}/services/${sts}-rw`);
      const selected = (await sim.list(`/api/v1/namespaces/${ns}/pods`, { labelSelector: Object.entries(rw.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') })).filter(isReady);
      expect(selected.map((p) => p.metadata.name), `${key}: -rw selects the leader`).toEqual([now!.pod]);
    }
    // One budget over all members: while a member is lost to the zone (pinned), it allows no eviction, so a drain
    // elsewhere can't take a second member; with every member back it allows one. The controller's status may lag.
    for (const key of patroniSets) {
      const [ns, sts] = key.split('/');
      const set = await sim.api('GET', `/apis/apps/v1/namespaces/${ns}/statefulsets/${sts}`);
      const budgets = (await sim.list(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`))
        .filter((p) => Object.entries(p.spec.selector?.matchLabels ?? {}).every(([k, v]) => set.spec.template.metadata.labels?.[k] === v));
      expect(budgets.map((p) => p.metadata.name), `${key}: exactly one budget over the members`).toHaveLength(1);
      const ready = async () => (await sim.list(`/api/v1/namespaces/${ns}/pods`, { labelSelector: `${SCOPE_LABEL}=${set.spec.template.metadata.labels[SCOPE_LABEL]}` })).filter(isReady).length;
      let status: Obj = {};
      let want = -1;
      for (let i = 0; i < 20; i++) {
        want = (await ready()) < set.spec.replicas ? 0 : 1;
        status = (await sim.api('GET', `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${budgets[0].metadata.name}`)).status ?? {};
        if (status.disruptionsAllowed === want && status.expectedPods === set.spec.replicas) break;
        await sleep(1000);
      }
      lines.push(`PDB ${ns}/${budgets[0].metadata.name}: healthy ${status.currentHealthy}/${status.expectedPods}, allows ${status.disruptionsAllowed}`);
      expect(status.expectedPods, `PDB of ${key} counts every member`).toBe(set.spec.replicas);
      expect(status.disruptionsAllowed, `PDB of ${key} after the outage`).toBe(want);
    }
    console.log(`[sim] Patroni clusters after the zone-a outage (roles played by the stand-in; ${patroni!.promotions.filter((x) => x.at >= outageAt).length} promotions)\n${lines.join('\n')}`);
    expect(leadersBefore.size, 'Patroni clusters in the selected charts').toBe(patroniSets.size);
  }, STEP_TIMEOUT);
});

/** Per Patroni StatefulSet (`namespace/name`): the Ready pod holding the primary role, with its zone. */
async function leaders(sim: SimCluster, namespaces: readonly string[]): Promise<Map<string, { pod: string; zone?: string }>> {
  const zoneOf = new Map(sim.nodes.map((n) => [n.name, n.zone]));
  const out = new Map<string, { pod: string; zone?: string }>();
  for (const s of (await sim.list('/apis/apps/v1/statefulsets')).filter((x) => namespaces.includes(x.metadata.namespace) && x.spec.template.metadata.labels?.[SCOPE_LABEL])) {
    const pods = await sim.list(`/api/v1/namespaces/${s.metadata.namespace}/pods`, { labelSelector: `${SCOPE_LABEL}=${s.spec.template.metadata.labels[SCOPE_LABEL]},${ROLE_LABEL}=primary` });
    const leader = pods.filter((p: Obj) => isReady(p) && p.metadata.deletionTimestamp === undefined)[0];
    if (leader) out.set(`${s.metadata.namespace}/${s.metadata.name}`, { pod: leader.metadata.name, zone: zoneOf.get(leader.spec.nodeName) });
  }
  return out;
}
