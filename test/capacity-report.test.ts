import { Testing, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { PostgresCluster, StatelessService, connectPostgres } from '../lib';
import { capacityReport, renderCapacityMarkdown, renderCapacitySummary } from '../lib/capacity-report';
import { synth } from './harness/synth';

const GI = 2 ** 30;
const MI = 2 ** 20;

function smallApp(chart: Chart): void {
  const db = new PostgresCluster(chart, 'db', {
    credentials: { superuser: { secretName: 'su' }, replication: { secretName: 'repl' }, app: { secretName: 'app' } },
  });
  connectPostgres(new StatelessService(chart, 'api', { image: 'ghcr.io/example/api:1.0.0' }), db, { reads: 'replicas' });
}

describe('capacity report', () => {
  // Hand-computed from the documented defaults:
  //   api: HPA 3–20, 500m/256Mi requests, 2000m/1Gi limits, DB pool 50 (pooler) + 4 (replicas) per pod;
  //   db: 3 Patroni members (leader + 2 replicas) × 4 CPU / 16Gi with 50Gi volumes; pooler 2 × 100m/64Mi, limits 1 CPU/256Mi.
  const report = capacityReport(synth(smallApp));

  it('lists every workload with its replica range and per-pod resources', () => {
    const byName = Object.fromEntries(report.workloads.map((w) => [w.workload, w]));
    expect(Object.keys(byName).sort()).toEqual(['Deployment/api', 'Deployment/db-pooler', 'StatefulSet/db']);
    expect(byName['Deployment/api']).toEqual({
      workload: 'Deployment/api', minReplicas: 3, maxReplicas: 20,
      perPod: { cpuRequest: 500, memoryRequest: 256 * MI, cpuLimit: 2000, memoryLimit: GI },
      storagePerPod: 0, dbConnectionsPerPod: 54,
    });
    expect(byName['StatefulSet/db']).toMatchObject({ minReplicas: 3, maxReplicas: 3, storagePerPod: 50 * GI, perPod: { cpuRequest: 4000, memoryRequest: 16 * GI } });
    expect(byName['Deployment/db-pooler']).toMatchObject({ minReplicas: 2, maxReplicas: 2, perPod: { cpuRequest: 100, memoryRequest: 64 * MI, cpuLimit: 1000, memoryLimit: 256 * MI } });
  });

  it('adds up exact totals at min and at max', () => {
    expect(report.totals).toEqual({
      minReplicas: 3 + 3 + 2,
      maxReplicas: 20 + 3 + 2,
      cpuRequestAtMin: 1500 + 12000 + 200,
      cpuRequestAtMax: 10000 + 12000 + 200,
      memoryRequestAtMin: 768 * MI + 48 * GI + 128 * MI,
      memoryRequestAtMax: 5 * GI + 48 * GI + 128 * MI,
      cpuLimitAtMax: 40000 + 12000 + 2000,
      memoryLimitAtMax: 20 * GI + 48 * GI + 512 * MI,
      storage: 150 * GI,
      dbConnectionsAtMax: 54 * 20,
    });
  });

  it('renders Markdown and a one-line summary with the same figures', () => {
    const md = renderCapacityMarkdown('small', report);
    expect(md).toContain('| Deployment/api | 3–20 | 1.5 / 10 | 768Mi / 5Gi | 40 | 20Gi | – | 1080 |');
    expect(md).toContain('| **total** | 8–25 | 13.7 / 22.2 | 48.9Gi / 53.1Gi | 54 | 68.5Gi | 150Gi | 1080 |');
    expect(renderCapacitySummary('small', report)).toBe(
      'small: 3 workloads, 8–25 pods, CPU requests 13.7–22.2, memory requests 48.9Gi–53.1Gi, storage 150Gi, DB connections at max 1080');
  });

  it('reads fixed replica counts when there is no autoscaler', () => {
    const chart = new Chart(Testing.app(), 'x');
    new StatelessService(chart, 'batch', { image: 'ghcr.io/example/batch:1.0.0', autoscaling: false, replicas: 4 });
    const r = capacityReport(chart.toJson());
    expect(r.workloads[0]).toMatchObject({ minReplicas: 4, maxReplicas: 4 });
    expect(r.totals.cpuRequestAtMax).toBe(2000);
  });
});
