import { describe, expect, it } from 'vitest';
import {
  MIN_WORK_MEM_BYTES, connectionHeadroom, maxSlotWalKeepBytes, maximumMaxConnections, memorySettings, minimumMaxConnections,
  minimumMemoryBytes, pgMemory, poolerSizing,
  replicationSettings,
} from '../lib/postgres/sizing';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('memory settings', () => {
  it('derive 25 % / 75 % / work_mem / maintenance from 16 GiB and 100 connections', () => {
    const m = memorySettings(16 * GiB, 100);
    expect(pgMemory(m.sharedBuffersBytes)).toBe('4096MB');
    expect(pgMemory(m.effectiveCacheSizeBytes)).toBe('12288MB');
    // (16384 − 4096) MiB / (3 × 100) = 40.96 → 40MB
    expect(pgMemory(m.workMemBytes)).toBe('40MB');
    expect(pgMemory(m.maintenanceWorkMemBytes)).toBe('1024MB');
    expect(m.sharedMemoryVolumeBytes).toBe(GiB);
  });

  it('scale down with memory and connections', () => {
    const m = memorySettings(512 * MiB, 30);
    expect([m.sharedBuffersBytes, m.effectiveCacheSizeBytes, m.workMemBytes, m.maintenanceWorkMemBytes, m.sharedMemoryVolumeBytes].map(pgMemory))
      .toEqual(['128MB', '384MB', '4MB', '32MB', '64MB']);
  });

  it.each([20, 100, 300, 1000, 4000])('minimum memory for %i connections is exactly where work_mem reaches 1MB', (connections) => {
    const min = minimumMemoryBytes(connections);
    expect(memorySettings(min, connections).workMemBytes).toBeGreaterThanOrEqual(MIN_WORK_MEM_BYTES);
    if (min > 256 * MiB) expect(memorySettings(min - MiB, connections).workMemBytes).toBeLessThan(MIN_WORK_MEM_BYTES);
  });

  it('keeps a fifth of the volume at most for WAL held by slots', () => {
    expect(pgMemory(maxSlotWalKeepBytes(50 * GiB))).toBe('10240MB');
  });
});

describe('replication settings', () => {
  it.each([[0, 3], [1, 3], [2, 3], [3, 4], [5, 6], [15, 16]])('%i replicas → %i senders and slots (≥ 3, ≥ replicas + 1)', (replicas, expected) => {
    expect(replicationSettings(replicas)).toEqual({ maxWalSenders: expected, maxReplicationSlots: expected });
  });
});

describe('connection headroom', () => {
  it.each([[20, 5, 8], [100, 10, 13], [1000, 100, 103]])('max_connections %i keeps %i for admin, %i in total', (max, admin, total) => {
    expect(connectionHeadroom(max)).toEqual({ superuserReserved: 3, admin, total });
  });
});

describe('pooler sizing', () => {
  it('splits the default budget over 2 pooler replicas', () => {
    expect(poolerSizing({ maxConnections: 100, poolerReplicas: 2 })).toEqual({
      replicas: 2,
      serverConnectionBudget: 87,
      perReplicaBudget: 43,
      defaultPoolSize: 39,
      reservePoolSize: 4,
      maxDbConnections: 43,
      maxClientConn: 500,
      totalServerConnections: 86,
      totalClientConnections: 1000,
    });
  });

  it('can never open more server connections than max_connections − headroom', () => {
    let cases = 0;
    for (const maxConnections of [20, 21, 37, 50, 99, 100, 101, 250, 500, 1000, 2500, 10_000]) {
      const budget = maxConnections - connectionHeadroom(maxConnections).total;
      for (let poolerReplicas = 1; poolerReplicas <= Math.min(budget, 40); poolerReplicas++) {
        const s = poolerSizing({ maxConnections, poolerReplicas });
        expect(s.totalServerConnections).toBeLessThanOrEqual(budget);
        expect(s.defaultPoolSize).toBeGreaterThanOrEqual(1);
        expect(s.reservePoolSize).toBeGreaterThanOrEqual(0);
        expect(s.maxDbConnections).toBe(s.defaultPoolSize + s.reservePoolSize);
        expect(s.totalClientConnections).toBeGreaterThanOrEqual(10 * maxConnections);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(300);
  });

  it('takes pinned sizes and fills the rest of the replica share', () => {
    const s = poolerSizing({ maxConnections: 100, poolerReplicas: 2, defaultPoolSize: 30 });
    expect([s.defaultPoolSize, s.reservePoolSize, s.maxDbConnections]).toEqual([30, 4, 34]);
    const r = poolerSizing({ maxConnections: 100, poolerReplicas: 2, reservePoolSize: 10 });
    expect([r.defaultPoolSize, r.reservePoolSize]).toEqual([33, 10]);
    const c = poolerSizing({ maxConnections: 100, poolerReplicas: 2, maxClientConn: 2000 });
    expect(c.totalClientConnections).toBe(4000);
  });

  it('reports pinned sizes above the budget instead of hiding them', () => {
    const s = poolerSizing({ maxConnections: 100, poolerReplicas: 2, defaultPoolSize: 60 });
    expect(s.totalServerConnections).toBeGreaterThan(s.serverConnectionBudget);
  });
});

describe('max_connections bounds for the Helm knob', () => {
  it.each([1, 12, 86, 500, 5000])('minimumMaxConnections(%i) is the smallest value leaving that many for the pooler', (server) => {
    const min = minimumMaxConnections(server);
    expect(min - connectionHeadroom(min).total).toBeGreaterThanOrEqual(server);
    if (min > 20) expect(min - 1 - connectionHeadroom(min - 1).total).toBeLessThan(server);
  });
  it.each([512 * MiB, 16 * GiB, 64 * GiB])('maximumMaxConnections(%i) is the largest value memory supports', (memory) => {
    const max = maximumMaxConnections(memory);
    expect(minimumMemoryBytes(max)).toBeLessThanOrEqual(memory);
    if (max < 10_000) expect(minimumMemoryBytes(max + 1)).toBeGreaterThan(memory);
  });
});
