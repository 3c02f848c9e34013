/**
 * Issue 20's StatefulSet finding, for the Patroni members (podManagementPolicy: Parallel), on the simulated cluster
 * (test/cluster/sim-cluster.ts: real controller-manager and scheduler, kwok nodes in 3 zones, zonal volumes).
 *
 * A zone outage takes member 0, whose volume is pinned to the lost zone, while member 2 is lost elsewhere at the same
 * time (its node crashed, or a drain evicted it). With OrderedReady the StatefulSet controller recreates no higher
 * ordinal while a lower one is not Ready, so member 2 stays missing until the zone returns: one member instead of
 * two. With Parallel (what the construct renders; Patroni orders bootstrap and cloning itself) member 2 is back at
 * once. The same synthesized StatefulSet runs in both namespaces; only the policy differs in the second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCluster } from '../../lib';
import { find, synth } from '../harness/synth';
import { Obj, SimCluster, startSimCluster } from './sim-cluster';
import { isReady, sleep } from './sim-report';

const CREDENTIALS = { superuser: { secretName: 's' }, replication: { secretName: 'r' }, app: { secretName: 'a' } };

describe('Patroni members after a zone outage: Parallel recreates every lost ordinal (issue 20)', () => {
  let sim: SimCluster;
  const objects = synth((chart) => new PostgresCluster(chart, 'db', { credentials: CREDENTIALS, storage: { size: '1Gi' } }));
  const sts = find(objects, 'StatefulSet', 'db');
  const sa = find(objects, 'ServiceAccount', 'db-patroni');

  beforeAll(async () => { sim = await startSimCluster(); }, 5 * 60 * 1000);
  afterAll(async () => { await sim?.stop(); });

  const pods = async (ns: string) => (await sim.list(`/api/v1/namespaces/${ns}/pods`)).filter((p: Obj) => p.metadata.deletionTimestamp === undefined);
  const zoneOf = (p: Obj) => sim.nodes.find((n) => n.name === p.spec.nodeName)?.zone;

  /** Members 0 and 2 lost at once, member 0's zone cordoned; returns Ready members over `watchMs`. */
  async function outage(ns: string, policy: 'Parallel' | 'OrderedReady', watchMs: number): Promise<{ readyAfter: string[]; victim: string; backMs?: number; zone: string }> {
    await sim.cp.createNamespace(ns, { podSecurity: 'restricted' });
    const into = (o: Obj) => ({ ...o, metadata: { ...o.metadata, namespace: ns } });
    await sim.api('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, into(sa));
    await sim.api('POST', `/apis/apps/v1/namespaces/${ns}/statefulsets`, into({ ...sts, spec: { ...sts.spec, podManagementPolicy: policy } }));
    for (let i = 0; i < 120; i++) {
      const p = await pods(ns);
      if (p.length === 3 && p.every(isReady)) break;
      await sleep(1000);
    }
    const before = await pods(ns);
    expect(before.filter(isReady).map((p) => p.metadata.name).sort(), `${ns}: members Ready before the outage`).toEqual(['db-0', 'db-1', 'db-2']);
    const zone = zoneOf(before.find((p) => p.metadata.name === 'db-0')!)!;
    // A higher member outside that zone (the zone spread is soft: two members may share a zone).
    const victim = ['db-2', 'db-1'].find((name) => zoneOf(before.find((p) => p.metadata.name === name)!) !== zone)!;
    // Member 0's zone goes down (its volume is pinned there); the victim's pod is lost in the same minute elsewhere.
    for (const n of sim.nodes.filter((x) => x.zone === zone)) await sim.cordon(n.name);
    const t0 = Date.now();
    for (const name of ['db-0', victim]) await sim.api('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`, undefined, { gracePeriodSeconds: '0' });
    let backMs: number | undefined;
    let ready: string[] = [];
    while (Date.now() - t0 < watchMs) {
      await sleep(1000);
      ready = (await pods(ns)).filter(isReady).map((p) => p.metadata.name).sort();
      if (backMs === undefined && ready.includes(victim)) backMs = Date.now() - t0;
      if (backMs !== undefined && policy === 'Parallel') break;
    }
    for (const n of sim.nodes.filter((x) => x.zone === zone)) await sim.cordon(n.name, false);
    return { readyAfter: ready, victim, backMs, zone };
  }

  it('Parallel (rendered): member 2 is back while member 0 waits for its zone', async () => {
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    const r = await outage('parallel', 'Parallel', 90_000);
    console.log(`[parallel] zone ${r.zone} down with db-0, ${r.victim} lost elsewhere: Ready ${JSON.stringify(r.readyAfter)}; ${r.victim} back after ${r.backMs ?? 'never'} ms`);
    expect(r.readyAfter).toEqual(['db-1', 'db-2']);
  }, 5 * 60 * 1000);

  it('OrderedReady (the contrast): member 2 stays missing behind the Pending member 0', async () => {
    const r = await outage('ordered', 'OrderedReady', 45_000);
    const created = (await pods('ordered')).map((p) => `${p.metadata.name}:${p.status?.phase}`).sort();
    console.log(`[parallel] OrderedReady, zone ${r.zone} down with db-0, ${r.victim} lost elsewhere: Ready ${JSON.stringify(r.readyAfter)} after 45 s; pods ${JSON.stringify(created)}`);
    expect(r.readyAfter).toEqual(['db-1', 'db-2'].filter((n) => n !== r.victim));
  }, 5 * 60 * 1000);
});
