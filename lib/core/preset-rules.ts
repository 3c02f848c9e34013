import type { Preset } from '../presets';
import { Problems } from './problems';
import {
  annotationMapProblems, booleanRule, compareQuantities, imageRegistry, integerRule, isRecord, labelMapProblems, labelValue,
  parseQuantity, qualifiedName, quantityRule,
} from './rules';

/**
 * The rules a preset must meet, checked where it is applied: a platform team's preset package is input like any
 * other, and a bad label in it would otherwise reach every object of every chart that uses it.
 */

const KEYS = ['autoscaling', 'replicas', 'disruptionBudget', 'postgres', 'redis', 'resources', 'imageRegistry', 'labels', 'podAnnotations', 'tolerations', 'nodeSelector'];
const TOLERATION_KEYS = ['key', 'operator', 'value', 'effect', 'tolerationSeconds'];
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function presetProblems(p: Problems, preset: unknown, at = 'preset'): void {
  if (!isRecord(preset)) {
    p.add(at, preset, 'must be a preset object', true);
    return;
  }
  for (const k of Object.keys(preset)) if (!KEYS.includes(k)) p.add(`${at}.${k}`, preset[k], `is not a preset field; known: ${KEYS.join(', ')}`);
  const pr = preset as Preset & Record<string, unknown>;

  const a = pr.autoscaling;
  if (a !== undefined && a !== false) {
    if (!isRecord(a)) p.add(`${at}.autoscaling`, a, 'must be false or { minReplicas, maxReplicas, cpuUtilization, memoryUtilization }', true);
    else {
      for (const k of Object.keys(a)) {
        if (!['minReplicas', 'maxReplicas', 'cpuUtilization', 'memoryUtilization'].includes(k)) p.add(`${at}.autoscaling.${k}`, a[k], 'is not an autoscaling preset field');
      }
      const minOk = a.minReplicas === undefined || p.check(`${at}.autoscaling.minReplicas`, a.minReplicas, integerRule({ min: 1 }));
      const maxOk = a.maxReplicas === undefined || p.check(`${at}.autoscaling.maxReplicas`, a.maxReplicas, integerRule({ min: 1 }));
      if (minOk && maxOk && a.minReplicas !== undefined && a.maxReplicas !== undefined && (a.minReplicas as number) > (a.maxReplicas as number)) {
        p.add(`${at}.autoscaling.minReplicas`, a.minReplicas, `must not exceed maxReplicas (${a.maxReplicas})`);
      }
      for (const k of ['cpuUtilization', 'memoryUtilization']) {
        if (a[k] !== undefined) p.check(`${at}.autoscaling.${k}`, a[k], integerRule({ min: 1, max: 100 }));
      }
    }
  }
  if (pr.replicas !== undefined) p.check(`${at}.replicas`, pr.replicas, integerRule({ min: 1 }));
  if (pr.disruptionBudget !== undefined) p.check(`${at}.disruptionBudget`, pr.disruptionBudget, booleanRule());
  if (pr.postgres !== undefined) {
    if (!isRecord(pr.postgres)) p.add(`${at}.postgres`, pr.postgres, 'must be { readReplicas, poolerReplicas, failover }', true);
    else {
      if (pr.postgres.readReplicas !== undefined) p.check(`${at}.postgres.readReplicas`, pr.postgres.readReplicas, integerRule({ min: 0, max: 15 }));
      if (pr.postgres.poolerReplicas !== undefined) p.check(`${at}.postgres.poolerReplicas`, pr.postgres.poolerReplicas, integerRule({ min: 1 }));
      if (pr.postgres.failover !== undefined && pr.postgres.failover !== 'none' && pr.postgres.failover !== 'patroni') {
        p.add(`${at}.postgres.failover`, pr.postgres.failover, 'must be "none" or "patroni"', typeof pr.postgres.failover !== 'string');
      }
    }
  }
  if (pr.redis !== undefined) {
    if (!isRecord(pr.redis)) p.add(`${at}.redis`, pr.redis, 'must be { mode }', true);
    else if (pr.redis.mode !== undefined && pr.redis.mode !== 'sentinel' && pr.redis.mode !== 'standalone') {
      p.add(`${at}.redis.mode`, pr.redis.mode, 'must be "sentinel" or "standalone"', typeof pr.redis.mode !== 'string');
    }
  }
  if (pr.resources !== undefined) {
    if (!isRecord(pr.resources)) p.add(`${at}.resources`, pr.resources, 'must be { requests, limits }', true);
    else {
      const r = pr.resources as Record<string, unknown>;
      for (const kind of ['requests', 'limits']) {
        const v = r[kind];
        if (v === undefined) continue;
        if (!isRecord(v)) {
          p.add(`${at}.resources.${kind}`, v, 'must be { cpu, memory }', true);
          continue;
        }
        if (v.cpu !== undefined) p.check(`${at}.resources.${kind}.cpu`, v.cpu, quantityRule('cpu'));
        if (v.memory !== undefined) p.check(`${at}.resources.${kind}.memory`, v.memory, quantityRule('memory'));
      }
      for (const field of ['cpu', 'memory']) {
        const req = (r.requests as Record<string, unknown> | undefined)?.[field];
        const lim = (r.limits as Record<string, unknown> | undefined)?.[field];
        const rq = typeof req === 'string' ? parseQuantity(req) : undefined;
        const lq = typeof lim === 'string' ? parseQuantity(lim) : undefined;
        if (rq && lq && compareQuantities(rq, lq) > 0) p.add(`${at}.resources.requests.${field}`, req, `must not exceed limits.${field} (${lim})`);
      }
    }
  }
  if (pr.imageRegistry !== undefined) p.check(`${at}.imageRegistry`, pr.imageRegistry, imageRegistry());
  for (const [field, problems] of [['labels', labelMapProblems], ['nodeSelector', labelMapProblems], ['podAnnotations', annotationMapProblems]] as const) {
    if (pr[field] === undefined) continue;
    for (const [key, value, r] of problems(pr[field])) p.refusal(key === undefined ? `${at}.${field}` : `${at}.${field}.${key}`, value, r);
  }
  if (pr.tolerations !== undefined) {
    if (!Array.isArray(pr.tolerations)) p.add(`${at}.tolerations`, pr.tolerations, 'must be a list of tolerations', true);
    else pr.tolerations.forEach((t: unknown, i: number) => tolerationProblems(p, `${at}.tolerations[${i}]`, t));
  }
}

/** The API server's toleration rules (ValidateTolerations). */
function tolerationProblems(p: Problems, at: string, t: unknown): void {
  if (!isRecord(t)) {
    p.add(at, t, 'must be a toleration { key, operator, value, effect, tolerationSeconds }', true);
    return;
  }
  for (const k of Object.keys(t)) if (!TOLERATION_KEYS.includes(k)) p.add(`${at}.${k}`, t[k], `is not a toleration field; known: ${TOLERATION_KEYS.join(', ')}`);
  const operator = t.operator ?? 'Equal';
  if (operator !== 'Equal' && operator !== 'Exists') p.add(`${at}.operator`, t.operator, 'must be "Equal" or "Exists"', typeof t.operator !== 'string');
  if (t.key === undefined || t.key === '') {
    if (operator !== 'Exists') p.add(`${at}.key`, t.key, 'is required unless operator is "Exists" (an empty key with Exists tolerates every taint)');
  } else p.check(`${at}.key`, t.key, qualifiedName());
  if (t.value !== undefined) {
    if (operator === 'Exists' && t.value !== '') p.add(`${at}.value`, t.value, 'must be empty when operator is "Exists"');
    else p.check(`${at}.value`, t.value, labelValue());
  }
  if (t.effect !== undefined && t.effect !== '' && !EFFECTS.includes(t.effect as string)) {
    p.add(`${at}.effect`, t.effect, `must be one of ${EFFECTS.map((e) => `"${e}"`).join(', ')}`, typeof t.effect !== 'string');
  }
  if (t.tolerationSeconds !== undefined) {
    if (t.effect !== 'NoExecute') p.add(`${at}.tolerationSeconds`, t.tolerationSeconds, 'applies only with effect "NoExecute"');
    else p.check(`${at}.tolerationSeconds`, t.tolerationSeconds, integerRule({ min: 0, max: Number.MAX_SAFE_INTEGER }));
  }
}
