/**
 * Plays Patroni's part on the simulated cluster, where kwok runs no container. Every `intervalMs`, per Patroni
 * cluster (pods with the scope label of lib/postgres/patroni.ts): when no Ready member carries
 * `scalecharts.io/role=primary`, the lowest-named Ready member gets it; every other Ready member without a role gets
 * `replica`. That is the outcome of Patroni's leader election on the pod labels (what the -rw/-ro Services
 * select), here without its timing: the election itself (ttl-bound), pg_rewind and the writes lost or
 * kept are proven on real processes (test/postgres-patroni.test.ts, test/cluster/postgres-patroni-k8s.test.ts).
 */
import { ROLE_LABEL, SCOPE_LABEL } from '../../lib/postgres/patroni';
import type { Obj, SimCluster } from './sim-cluster';
import { isReady } from './sim-report';

export interface Promotion {
  readonly namespace: string;
  readonly scope: string;
  readonly pod: string;
  readonly at: number;
}

export interface PatroniStandIn {
  /** Every primary label the stand-in set, in order (the first election of each cluster included). */
  readonly promotions: Promotion[];
  /** One pass now (the loop also runs every interval). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export function startPatroniStandIn(sim: SimCluster, namespaces: () => readonly string[], intervalMs = 2000): PatroniStandIn {
  const promotions: Promotion[] = [];
  let running: Promise<void> | undefined;
  let stopped = false;
  const label = (ns: string, pod: string, role: string) => sim.api('PATCH', `/api/v1/namespaces/${ns}/pods/${pod}`, { metadata: { labels: { [ROLE_LABEL]: role } } });

  const pass = async (): Promise<void> => {
    for (const ns of namespaces()) {
      const pods = (await sim.list(`/api/v1/namespaces/${ns}/pods`, { labelSelector: SCOPE_LABEL }))
        .filter((p: Obj) => p.metadata.deletionTimestamp === undefined);
      const scopes = new Map<string, Obj[]>();
      for (const p of pods) scopes.set(p.metadata.labels[SCOPE_LABEL], [...(scopes.get(p.metadata.labels[SCOPE_LABEL]) ?? []), p]);
      for (const [scope, members] of scopes) {
        const ready = members.filter(isReady).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
        // A leader whose pod is not Ready (its node gone) has lost the lock after ttl: demoted, as Patroni would.
        for (const p of members.filter((m) => !isReady(m) && m.metadata.labels[ROLE_LABEL] === 'primary')) await label(ns, p.metadata.name, 'replica').catch(() => undefined);
        let leader = ready.find((p) => p.metadata.labels[ROLE_LABEL] === 'primary');
        if (!leader && ready.length > 0) {
          leader = ready[0];
          await label(ns, leader.metadata.name, 'primary');
          promotions.push({ namespace: ns, scope, pod: leader.metadata.name, at: Date.now() });
        }
        for (const p of ready.filter((m) => m !== leader && m.metadata.labels[ROLE_LABEL] !== 'replica')) await label(ns, p.metadata.name, 'replica');
      }
    }
  };
  const tick = async (): Promise<void> => {
    if (!running) running = pass().catch((e) => { console.log(`[patroni stand-in] ${String(e)}`); }).finally(() => { running = undefined; });
    await running;
  };
  const timer = setInterval(() => { if (!stopped) void tick(); }, intervalMs);
  return {
    promotions,
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
