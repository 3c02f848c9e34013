/**
 * The simulated cluster itself (test/cluster/sim-cluster.ts): 9 kwok nodes in 3 zones turn Ready, the scheduler
 * places pods, kwok makes them Ready, and a StatefulSet's claims get volumes pinned to the zone of their pod's node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Obj, SimCluster, ZONE_LABEL, startSimCluster } from './sim-cluster';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isReady = (p: Obj) => p.status?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True');

describe('simulated cluster', () => {
  let sim: SimCluster;
  beforeAll(async () => {
    sim = await startSimCluster();
    console.log(`[sim] cluster ready in ${sim.startupMs} ms`);
  });
  afterAll(async () => sim?.stop());

  it('has 9 Ready nodes, 3 per zone', async () => {
    const nodes = await sim.list('/api/v1/nodes');
    const perZone: Record<string, number> = {};
    for (const n of nodes) perZone[n.metadata.labels[ZONE_LABEL]] = (perZone[n.metadata.labels[ZONE_LABEL]] ?? 0) + 1;
    expect(perZone).toEqual({ 'zone-a': 3, 'zone-b': 3, 'zone-c': 3 });
    expect(nodes.every(isReady)).toBe(true);
  });

  it('schedules a restricted StatefulSet with claims; each volume is pinned to its pod\'s zone', async () => {
    await sim.cp.createNamespace('t', { podSecurity: 'restricted' });
    const labels = { app: 's' };
    await sim.api('POST', '/apis/apps/v1/namespaces/t/statefulsets', {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' },
      spec: {
        replicas: 3, serviceName: 's', selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } }],
            containers: [{ name: 'c', image: 'example/c:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    let pods: Obj[] = [];
    for (let i = 0; i < 90; i++) {
      pods = await sim.list('/api/v1/namespaces/t/pods');
      if (pods.length === 3 && pods.every(isReady)) break;
      await sleep(1000);
    }
    expect(pods.filter(isReady)).toHaveLength(3);
    const nodes = new Map((await sim.list('/api/v1/nodes')).map((n) => [n.metadata.name, n.metadata.labels[ZONE_LABEL]]));
    expect(new Set(pods.map((p) => nodes.get(p.spec.nodeName))).size).toBe(3);
    const pvs = await sim.list('/api/v1/persistentvolumes');
    expect(pvs).toHaveLength(3);
    for (const pod of pods) {
      const pv = pvs.find((v) => v.spec.claimRef.name === `d-${pod.metadata.name}`)!;
      expect(pv.status.phase).toBe('Bound');
      expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([nodes.get(pod.spec.nodeName)]);
    }
  });
});
