import { CAPACITY, STATELESS } from './defaults';
import { ValidationError } from './errors';

/** Traffic figures to size a stateless tier from (seed 002's sizing guide). */
export interface CapacityInput {
  /** Requests per day; give this or `peakRps`. */
  readonly requestsPerDay?: number;
  /** Peak requests per second, when measured (e.g. Prometheus http_requests_total, p95 over 1 min — seed 000). */
  readonly peakRps?: number;
  /** Peak over average. @default 3 — `peak_multiplier = 3.0` (seed 002) */
  readonly peakMultiplier?: number;
  /** Requests per second one instance serves. @default 15000 — `/ 15_000` (seed 002) */
  readonly rpsPerInstance?: number;
  /** Replica floor for availability. @default 3 — "Start with 3 instances — Minimum for HA" (seed 002) */
  readonly minReplicas?: number;
}

export interface CapacityPlan {
  readonly averageRps: number;
  readonly peakRps: number;
  /** Instances the peak needs, unrounded (seed 002's `instances_needed`). */
  readonly instancesNeeded: number;
  /** Replicas to run: the needed instances rounded up, never below the HA floor. */
  readonly replicas: number;
}

/**
 * Replicas from traffic: peak = average × multiplier, instances = peak / per-instance RPS (seed 002), rounded up and
 * floored at the HA minimum. Seed 002's example (5M requests/day) needs 0.012 instances: the floor of 3 decides.
 */
export function planCapacity(input: CapacityInput): CapacityPlan {
  const where = 'planCapacity';
  const multiplier = input.peakMultiplier ?? CAPACITY.peakMultiplier;
  const perInstance = input.rpsPerInstance ?? CAPACITY.rpsPerInstance;
  const floor = input.minReplicas ?? STATELESS.minReplicas;
  if (!(multiplier >= 1)) throw new ValidationError(where, 'peakMultiplier', multiplier, 'must be a number >= 1');
  if (!(perInstance > 0)) throw new ValidationError(where, 'rpsPerInstance', perInstance, 'must be a positive number');
  if (!Number.isInteger(floor) || floor < 1) throw new ValidationError(where, 'minReplicas', floor, 'must be an integer >= 1');
  let averageRps: number;
  let peakRps: number;
  if (input.peakRps !== undefined) {
    if (input.requestsPerDay !== undefined) {
      throw new ValidationError(where, 'peakRps', input.peakRps, 'give either requestsPerDay or peakRps, not both');
    }
    if (!(input.peakRps >= 0)) throw new ValidationError(where, 'peakRps', input.peakRps, 'must be a number >= 0');
    peakRps = input.peakRps;
    averageRps = peakRps / multiplier;
  } else if (input.requestsPerDay !== undefined) {
    if (!(input.requestsPerDay >= 0)) throw new ValidationError(where, 'requestsPerDay', input.requestsPerDay, 'must be a number >= 0');
    averageRps = input.requestsPerDay / 86_400;
    peakRps = averageRps * multiplier;
  } else {
    throw new ValidationError(where, 'requestsPerDay', undefined, 'give requestsPerDay or peakRps');
  }
  const instancesNeeded = peakRps / perInstance;
  return { averageRps, peakRps, instancesNeeded, replicas: Math.max(floor, Math.ceil(instancesNeeded)) };
}
