import type { AutoscalingProps, ResolvedAutoscaling } from '../autoscaling';
import { Problems } from '../core/problems';
import { compareQuantities, integerRule, isRecord, parseQuantity, quantityAtScale, quantityRule } from '../core/rules';
import { STATELESS } from '../defaults';
import type { ResolvedResources, ResourceProps } from '../pod';
import type { Preset } from '../presets';

/** Resolve-step pieces shared by the workloads: resources, HPA settings, switches. */

export function workloadBoolean(p: Problems, property: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    p.add(property, value, 'must be true or false', true);
    return fallback;
  }
  return value;
}

type Pair = { readonly cpu: string; readonly memory: string; readonly ephemeralStorage?: string };

/**
 * Call-site resources over preset resources over the construct's defaults; every quantity by the Quantity grammar,
 * requests ≤ limits compared exactly.
 */
export function resolveWorkloadResources(
  p: Problems, given: ResourceProps | undefined, preset: Preset, defaults: { readonly requests: Pair; readonly limits: Pair }, property = 'resources',
): ResolvedResources {
  const g: unknown = given ?? {};
  if (!isRecord(g)) p.add(property, g, 'must be { requests: { cpu, memory }, limits: { cpu, memory } }', true);
  const layer = (o: unknown, kind: 'requests' | 'limits'): Partial<Pair> => {
    const v = isRecord(o) ? o[kind] : undefined;
    if (v !== undefined && !isRecord(v)) {
      if (o === g) p.add(`${property}.${kind}`, v, 'must be { cpu, memory }', true);
      return {};
    }
    return Object.fromEntries(Object.entries(v ?? {}).filter(([, x]) => x !== undefined)) as Partial<Pair>;
  };
  const merged = (kind: 'requests' | 'limits'): Pair => ({ ...defaults[kind], ...layer(preset.resources, kind), ...layer(g, kind) });
  const requests = merged('requests');
  const limits = merged('limits');
  const ok = {
    requests: { cpu: p.check(`${property}.requests.cpu`, requests.cpu, quantityRule('cpu')), memory: p.check(`${property}.requests.memory`, requests.memory, quantityRule('memory')) },
    limits: { cpu: p.check(`${property}.limits.cpu`, limits.cpu, quantityRule('cpu')), memory: p.check(`${property}.limits.memory`, limits.memory, quantityRule('memory')) },
  };
  for (const field of ['cpu', 'memory'] as const) {
    if (ok.requests[field] && ok.limits[field] && compareQuantities(parseQuantity(requests[field])!, parseQuantity(limits[field])!) > 0) {
      p.add(`${property}.requests.${field}`, requests[field], `must not exceed limits.${field} (${limits[field]})`);
    }
  }
  const pick = (kind: 'requests' | 'limits', field: 'cpu' | 'memory'): string => (ok[kind][field] ? (kind === 'requests' ? requests : limits)[field] : defaults[kind][field]);
  // Ephemeral storage is optional here: left out, withEphemeralStorage (lib/ephemeral-storage.ts) sizes it.
  const ephemeral = (kind: 'requests' | 'limits'): string | undefined => {
    const v = (kind === 'requests' ? requests : limits).ephemeralStorage;
    return v === undefined ? undefined : p.check(`${property}.${kind}.ephemeralStorage`, v, quantityRule('memory')) ? v : undefined;
  };
  const er = ephemeral('requests');
  const el = ephemeral('limits');
  if (er !== undefined && el !== undefined && compareQuantities(parseQuantity(er)!, parseQuantity(el)!) > 0) {
    p.add(`${property}.requests.ephemeralStorage`, er, `must not exceed limits.ephemeralStorage (${el})`);
  }
  const r = { cpu: pick('requests', 'cpu'), memory: pick('requests', 'memory'), ...(er !== undefined ? { ephemeralStorage: er } : {}) };
  const l = { cpu: pick('limits', 'cpu'), memory: pick('limits', 'memory'), ...(el !== undefined ? { ephemeralStorage: el } : {}) };
  return {
    requests: r, limits: l,
    requestMillicores: quantityAtScale(parseQuantity(r.cpu)!, 3), limitMillicores: quantityAtScale(parseQuantity(l.cpu)!, 3),
    requestBytes: quantityAtScale(parseQuantity(r.memory)!, 0), limitBytes: quantityAtScale(parseQuantity(l.memory)!, 0),
  };
}

/** HPA settings layered call site over preset over defaults, each checked; min ≤ max. */
export function resolveAutoscalingLayers(
  p: Problems, property: string, layers: ReadonlyArray<AutoscalingProps | undefined>,
): ResolvedAutoscaling {
  const pick = <K extends keyof AutoscalingProps>(k: K): AutoscalingProps[K] => {
    for (const layer of layers) if (layer?.[k] !== undefined) return layer[k];
    return undefined;
  };
  const minReplicas = p.value(`${property}.minReplicas`, pick('minReplicas'), integerRule({ min: 1 }), STATELESS.minReplicas);
  const maxReplicas = p.value(`${property}.maxReplicas`, pick('maxReplicas'), integerRule({ min: 1 }), Math.max(minReplicas, STATELESS.maxReplicas));
  if (minReplicas > maxReplicas) p.add(`${property}.minReplicas`, minReplicas, `must not exceed maxReplicas (${maxReplicas})`);
  const behavior = pick('behavior');
  if (behavior !== undefined && !isRecord(behavior)) p.add(`${property}.behavior`, behavior, 'must be an HPA behavior object { scaleUp, scaleDown }', true);
  return {
    minReplicas, maxReplicas: Math.max(minReplicas, maxReplicas),
    cpuUtilization: p.value(`${property}.cpuUtilization`, pick('cpuUtilization'), integerRule({ min: 1, max: 100 }), STATELESS.cpuUtilization),
    memoryUtilization: p.value(`${property}.memoryUtilization`, pick('memoryUtilization'), integerRule({ min: 1, max: 100 }), STATELESS.memoryUtilization),
    ...(isRecord(behavior) ? { behavior } : {}),
  };
}

/**
 * A StatelessService's replica settings: an HPA (call site, then preset, then defaults), or a fixed count when
 * `autoscaling: false` or a preset switches autoscaling off (the development tier). Never both.
 */
export function resolveWorkloadAutoscaling(
  p: Problems, given: { readonly autoscaling?: AutoscalingProps | false; readonly replicas?: number }, preset: Preset,
): { autoscaling?: ResolvedAutoscaling; minReplicas: number; maxReplicas: number } {
  const a: unknown = given.autoscaling;
  if (a !== undefined && a !== false && !isRecord(a)) {
    p.add('autoscaling', a, 'must be false or { minReplicas, maxReplicas, cpuUtilization, memoryUtilization, behavior }', true);
  }
  const presetAutoscaling = preset.autoscaling || undefined;
  const off = a === false || (a === undefined && preset.autoscaling === false);
  if (off) {
    const replicas = p.value('replicas', given.replicas ?? preset.replicas ?? presetAutoscaling?.minReplicas ?? STATELESS.minReplicas, integerRule({ min: 1 }), 1);
    return { minReplicas: replicas, maxReplicas: replicas };
  }
  if (given.replicas !== undefined) {
    p.add('replicas', given.replicas, 'is owned by the HPA when autoscaling is on; set autoscaling.minReplicas, or autoscaling: false');
  }
  const autoscaling = resolveAutoscalingLayers(p, 'autoscaling', [isRecord(a) ? a as AutoscalingProps : undefined, presetAutoscaling, STATELESS]);
  return { autoscaling, minReplicas: autoscaling.minReplicas, maxReplicas: autoscaling.maxReplicas };
}
