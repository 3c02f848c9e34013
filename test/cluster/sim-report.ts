/**
 * What the simulated-cluster tier observes: workloads of a release with their pods, zones and readiness; Secrets
 * the pods read; PDB health; a drain through the Eviction API; a zone outage. Pure reads and the two disruptions,
 * shared by test/cluster/charts.test.ts.
 */
import { Obj, SimCluster, ZONE_LABEL } from './sim-cluster';

export const INSTANCE = 'app.kubernetes.io/instance';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const isReady = (p: Obj) => p.status?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True') ?? false;
const terminating = (p: Obj) => p.metadata.deletionTimestamp !== undefined;

export interface PodInfo {
  readonly name: string;
  readonly node?: string;
  readonly zone?: string;
  readonly ready: boolean;
  readonly phase: string;
  /** Why it is not scheduled (PodScheduled condition), when it is not. */
  readonly unschedulable?: string;
  readonly claims: readonly string[];
}

export interface WorkloadInfo {
  readonly kind: 'Deployment' | 'StatefulSet';
  readonly name: string;
  readonly namespace: string;
  readonly release: string;
  readonly desired: number;
  readonly ready: number;
  /** The HPA's floor when an HPA scales it. */
  readonly minReplicas?: number;
  readonly pods: readonly PodInfo[];
}

const selectorQuery = (sel: Record<string, string>) => Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');

/** Node name → zone. */
export async function nodeZones(sim: SimCluster): Promise<Map<string, string>> {
  return new Map((await sim.list('/api/v1/nodes')).map((n) => [n.metadata.name, n.metadata.labels[ZONE_LABEL]]));
}

/** Deployments and StatefulSets of a release with their live (non-terminating) pods. */
export async function workloads(sim: SimCluster, namespace: string, release: string): Promise<WorkloadInfo[]> {
  const zones = await nodeZones(sim);
  const q = { labelSelector: `${INSTANCE}=${release}` };
  const hpas = await sim.list(`/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`, q);
  const out: WorkloadInfo[] = [];
  for (const [kind, api] of [['Deployment', 'deployments'], ['StatefulSet', 'statefulsets']] as const) {
    for (const w of await sim.list(`/apis/apps/v1/namespaces/${namespace}/${api}`, q)) {
      const pods = (await sim.list(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: selectorQuery(w.spec.selector.matchLabels) }))
        .filter((p) => !terminating(p) && p.status?.phase !== 'Succeeded');
      const hpa = hpas.find((h) => h.spec.scaleTargetRef.kind === kind && h.spec.scaleTargetRef.name === w.metadata.name);
      out.push({
        kind, name: w.metadata.name, namespace, release, desired: w.spec.replicas ?? 1,
        ready: pods.filter(isReady).length, ...(hpa ? { minReplicas: hpa.spec.minReplicas ?? 1 } : {}),
        pods: pods.map((p) => {
          const scheduled = p.status?.conditions?.find((c: Obj) => c.type === 'PodScheduled');
          return {
            name: p.metadata.name, node: p.spec.nodeName, zone: p.spec.nodeName ? zones.get(p.spec.nodeName) : undefined,
            ready: isReady(p), phase: p.status?.phase ?? 'Unknown',
            ...(scheduled?.status === 'False' ? { unschedulable: scheduled.message } : {}),
            claims: (p.spec.volumes ?? []).filter((v: Obj) => v.persistentVolumeClaim).map((v: Obj) => v.persistentVolumeClaim.claimName),
          };
        }),
      });
    }
  }
  return out;
}

/** Pods per zone (every zone listed, 0 included) and per node of a workload's Ready pods. */
export function spreadOf(w: WorkloadInfo, allZones: readonly string[]): { zones: Record<string, number>; nodes: Record<string, number> } {
  const zones: Record<string, number> = Object.fromEntries(allZones.map((z) => [z, 0]));
  const nodes: Record<string, number> = {};
  for (const p of w.pods.filter((x) => x.ready)) {
    if (p.zone) zones[p.zone] += 1;
    if (p.node) nodes[p.node] = (nodes[p.node] ?? 0) + 1;
  }
  return { zones, nodes };
}

export const skew = (counts: Record<string, number>) => Math.max(...Object.values(counts)) - Math.min(...Object.values(counts));

/**
 * Waits until every workload of the namespace has its desired pods of the current revision Ready. Outgoing pods may
 * still be terminating: kwok's general stages take up to the pod's grace period (a worker's 600 s) to remove them.
 */
export async function waitSettled(sim: SimCluster, namespace: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const deployments = await sim.list(`/apis/apps/v1/namespaces/${namespace}/deployments`);
    const sets = await sim.list(`/apis/apps/v1/namespaces/${namespace}/statefulsets`);
    const done = deployments.every((d) => d.status?.observedGeneration === d.metadata.generation
        // status.replicas counts the active (non-terminating) pods of every ReplicaSet: no old pod still serving.
        && (d.status?.readyReplicas ?? 0) === d.spec.replicas && (d.status?.updatedReplicas ?? 0) === d.spec.replicas && (d.status?.replicas ?? 0) === d.spec.replicas)
      && sets.every((s) => (s.status?.readyReplicas ?? 0) === s.spec.replicas && s.status?.currentRevision === s.status?.updateRevision);
    if (done) return true;
    if (Date.now() > deadline) return false;
    await sleep(1000);
  }
}

/** Secret names the pods of a release read: env, envFrom, secret and projected volumes. */
export async function secretsReadBy(sim: SimCluster, namespace: string, release: string): Promise<Set<string>> {
  const out = new Set<string>();
  const visit = (n: unknown, key?: string) => {
    if (n === null || typeof n !== 'object') return;
    const o = n as Obj;
    if ((key === 'secretKeyRef' || key === 'secretRef') && typeof o.name === 'string') out.add(o.name);
    if (key === 'secret' && typeof (o.secretName ?? o.name) === 'string') out.add(o.secretName ?? o.name);
    for (const [k, v] of Object.entries(o)) visit(v, Array.isArray(o) ? key : k);
  };
  for (const p of await sim.list(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: `${INSTANCE}=${release}` })) visit(p.spec);
  return out;
}

export interface PdbSample {
  readonly name: string;
  readonly namespace: string;
  readonly expectedPods: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
}

export async function pdbs(sim: SimCluster, namespaces: readonly string[]): Promise<PdbSample[]> {
  const out: PdbSample[] = [];
  for (const ns of namespaces) {
    for (const p of await sim.list(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`)) {
      out.push({ name: p.metadata.name, namespace: ns, expectedPods: p.status?.expectedPods ?? 0, currentHealthy: p.status?.currentHealthy ?? 0, desiredHealthy: p.status?.desiredHealthy ?? 0 });
    }
  }
  return out;
}

export interface DrainResult {
  readonly nodes: readonly string[];
  /** Per PDB (`namespace/name`, or `(none)`): evictions allowed and refused (HTTP 429), pods never evicted. */
  readonly byPdb: Record<string, { allowed: number; refused: number; blocked: string[] }>;
  /** PDBs seen below their desired healthy count during the drain (must stay empty). */
  readonly violations: string[];
  readonly ms: number;
}

/**
 * `kubectl drain` of several nodes at once (a node-pool upgrade with surge) through the Eviction API: cordon, then
 * evict every pod on them, retrying those a PDB refuses (their replacements must turn Ready elsewhere first) until
 * `timeoutMs`; samples every PDB on each round.
 */
export async function drain(sim: SimCluster, nodes: readonly string[], namespaces: readonly string[], timeoutMs: number): Promise<DrainResult> {
  const started = Date.now();
  for (const node of nodes) await sim.cordon(node);
  const pdbOf = async (ns: string, labels: Record<string, string>) => {
    for (const p of await sim.list(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`)) {
      if (Object.entries(p.spec.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v)) return `${ns}/${p.metadata.name}`;
    }
    return '(none)';
  };
  const byPdb: DrainResult['byPdb'] = {};
  const violations = new Set<string>();
  let remaining = (await sim.list('/api/v1/pods')).filter((p) => nodes.includes(p.spec.nodeName))
    .filter((p) => namespaces.includes(p.metadata.namespace) && !terminating(p) && p.status?.phase !== 'Succeeded');
  const pdbNames = new Map<string, string>();
  for (const p of remaining) pdbNames.set(p.metadata.uid, await pdbOf(p.metadata.namespace, p.metadata.labels ?? {}));
  while (remaining.length > 0 && Date.now() - started < timeoutMs) {
    const next: Obj[] = [];
    for (const p of remaining) {
      const key = pdbNames.get(p.metadata.uid)!;
      const entry = byPdb[key] ?? (byPdb[key] = { allowed: 0, refused: 0, blocked: [] });
      const r = await sim.evict(p.metadata.namespace, p.metadata.name);
      if (r.status === 201) entry.allowed += 1;
      else if (r.status === 429) { entry.refused += 1; next.push(p); } else if (r.status !== 404) throw new Error(`eviction of ${p.metadata.name}: HTTP ${r.status} ${r.body?.message}`);
    }
    for (const s of await pdbs(sim, namespaces)) if (s.currentHealthy < s.desiredHealthy) violations.add(`${s.namespace}/${s.name} ${s.currentHealthy}/${s.desiredHealthy}`);
    remaining = next;
    if (remaining.length > 0) await sleep(2000);
  }
  for (const p of remaining) byPdb[pdbNames.get(p.metadata.uid)!].blocked.push(`${p.metadata.namespace}/${p.metadata.name} (${p.metadata.ownerReferences?.[0]?.kind ?? 'no owner'})`);
  return { nodes, byPdb, violations: [...violations], ms: Date.now() - started };
}

/** A zone outage: every node of the zone cordoned and every pod on it deleted at once (grace 0). */
export async function zoneOutage(sim: SimCluster, zone: string, namespaces: readonly string[]): Promise<number> {
  const nodes = sim.nodes.filter((n) => n.zone === zone);
  let deleted = 0;
  for (const n of nodes) await sim.cordon(n.name);
  for (const n of nodes) {
    for (const p of await sim.list('/api/v1/pods', { fieldSelector: `spec.nodeName=${n.name}` })) {
      if (!namespaces.includes(p.metadata.namespace)) continue;
      await sim.api('DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, undefined, { gracePeriodSeconds: '0' });
      deleted += 1;
    }
  }
  return deleted;
}

/** Zone of the volume bound to a claim (undefined when unbound). */
export async function claimZone(sim: SimCluster, namespace: string, claim: string): Promise<string | undefined> {
  const r = await sim.cp.request('GET', `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claim}`);
  const pv = r.status === 200 ? r.body.spec.volumeName : undefined;
  return pv ? sim.volumes.get(pv) : undefined;
}

/** When the test first saw a pod, saw it Ready and saw it Succeeded (ms since the epoch), and its owner. */
export interface PodSeen {
  readonly name: string;
  /** `Kind/name` of its controller (`Job/r1-api-migrate`, `ReplicaSet/r1-api-5d8f…`, `StatefulSet/r1-db`). */
  readonly owner: string;
  readonly firstSeen: number;
  readyAt?: number;
  succeededAt?: number;
  lastSeen: number;
}

/**
 * Records the pods of a namespace whose names start with `prefix`, polling every `intervalMs` until `stop()`: the
 * order in which a helm install or upgrade created and readied them (hooks included, though Helm deletes succeeded
 * hooks). A poll's time is an upper bound of each transition it sees.
 */
export function recordPods(sim: SimCluster, namespace: string, prefix: string, intervalMs = 250): { stop(): Promise<PodSeen[]> } {
  const seen = new Map<string, PodSeen>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const now = Date.now();
      for (const p of await sim.list(`/api/v1/namespaces/${namespace}/pods`)) {
        if (!p.metadata.name.startsWith(prefix)) continue;
        const ref = p.metadata.ownerReferences?.[0];
        const entry: PodSeen = seen.get(p.metadata.uid) ?? { name: p.metadata.name, owner: ref ? `${ref.kind}/${ref.name}` : '(none)', firstSeen: now, lastSeen: now };
        entry.lastSeen = now;
        if (isReady(p)) entry.readyAt ??= now;
        if (p.status?.phase === 'Succeeded') entry.succeededAt ??= now;
        seen.set(p.metadata.uid, entry);
      }
      await sleep(intervalMs);
    }
  })();
  return { stop: async () => { running = false; await loop; return [...seen.values()]; } };
}
