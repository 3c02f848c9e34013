import { describe, expect, it } from 'vitest';
import { planCapacity } from '../lib/capacity';
import { expectValidationError } from './harness/errors';

describe('planCapacity (seed 002 sizing guide)', () => {
  it("reproduces seed 002's arithmetic: 5M/day → 57.9 rps average, 173.6 peak, 0.0116 instances → floor of 3", () => {
    const plan = planCapacity({ requestsPerDay: 5_000_000 });
    expect(plan.averageRps).toBeCloseTo(57.87, 2);
    expect(plan.peakRps).toBeCloseTo(173.61, 2);
    expect(plan.instancesNeeded).toBeCloseTo(0.01157, 5);
    expect(plan.replicas).toBe(3);
  });

  it('rounds up past the floor: 1M rps peak / 15k = 66.7 → 67', () => {
    expect(planCapacity({ peakRps: 1_000_000 }).replicas).toBe(67);
    expect(planCapacity({ peakRps: 45_000 }).replicas).toBe(3);
    expect(planCapacity({ peakRps: 45_001 }).replicas).toBe(4);
  });

  it('honours multiplier, per-instance rate and floor', () => {
    const plan = planCapacity({ requestsPerDay: 86_400_000, peakMultiplier: 2, rpsPerInstance: 500, minReplicas: 2 });
    expect(plan.averageRps).toBe(1000);
    expect(plan.peakRps).toBe(2000);
    expect(plan.replicas).toBe(4);
  });

  it('rejects contradictory or impossible input', () => {
    expectValidationError(() => planCapacity({}), { path: 'planCapacity', property: 'requestsPerDay' });
    expectValidationError(() => planCapacity({ requestsPerDay: 1, peakRps: 1 }), { path: 'planCapacity', property: 'peakRps', value: 1 });
    expectValidationError(() => planCapacity({ peakRps: 10, peakMultiplier: 0.5 }), { path: 'planCapacity', property: 'peakMultiplier', value: 0.5 });
    expectValidationError(() => planCapacity({ peakRps: 10, rpsPerInstance: 0 }), { path: 'planCapacity', property: 'rpsPerInstance', value: 0 });
    expectValidationError(() => planCapacity({ peakRps: -1 }), { path: 'planCapacity', property: 'peakRps', value: -1 });
  });
});
