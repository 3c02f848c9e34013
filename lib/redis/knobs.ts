import type { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { REDIS } from '../defaults';
import { IMAGE_TAG_REFUSED, KNOB_SCHEMAS, Knobs } from '../knobs';
import type { RedisHAWorkload } from './render';
import { MAXMEMORY_POLICIES, ResolvedRedisHA } from './resolve';

/** The chart values of a RedisHA: image, Redis resources, maxmemory-policy and the volume size. */
export function declareRedisKnobs(scope: Construct, spec: ResolvedRedisHA, w: RedisHAWorkload, alerts?: ApiObject): void {
  const { image, maxmemoryPolicy, resources: res } = spec;
  const storageSize = spec.persistence?.size;
  const exporterInit = spec.metrics !== undefined;
  const containerPath = ['spec', 'template', 'spec', 'containers', 0];
  if (!image.includes('@')) {
    const at = image.lastIndexOf(':');
    const template = '{{ $values.image.repository }}:{{ $values.image.tag }}';
    Knobs.declare(scope, {
      key: 'image.repository', description: 'Redis image repository (official image, Debian variant)',
      schema: KNOB_SCHEMAS.imageRepository, default: image.slice(0, at),
      // The Redis image also runs the exporter-auth init container.
      targets: [w.statefulSet, ...(w.sentinelStatefulSet ? [w.sentinelStatefulSet] : [])].flatMap((object) => [
        { object, path: [...containerPath, 'image'], template },
        ...(exporterInit ? [{ object, path: ['spec', 'template', 'spec', 'initContainers', 0, 'image'], template }] : []),
      ]),
    });
    Knobs.declare(scope, {
      key: 'image.tag', description: 'Redis image tag (pinned 7.x; "latest" is refused)',
      schema: KNOB_SCHEMAS.imageTag, refused: IMAGE_TAG_REFUSED, default: image.slice(at + 1), targets: [],
    });
  }
  const quantity = KNOB_SCHEMAS.byteQuantity;
  for (const [kind, field, value] of [
    ['requests', 'cpu', res.requests.cpu], ['requests', 'memory', res.requests.memory],
    ['limits', 'cpu', res.limits.cpu], ['limits', 'memory', res.limits.memory],
  ] as const) {
    Knobs.declare(scope, {
      key: `resources.${kind}.${field}`,
      description: field === 'memory' && kind === 'limits'
        ? `Redis memory limit; maxmemory follows it at ${REDIS.maxmemoryPercent} % unless maxmemory is set explicitly`
        : `Redis container ${field} ${kind}`,
      schema: field === 'cpu' ? KNOB_SCHEMAS.quantity : quantity, default: value,
      targets: [{ object: w.statefulSet, path: [...containerPath, 'resources', kind, field] }],
      ...(kind === 'requests' ? { lessOrEqualTo: `resources.limits.${field}` } : {}),
    });
  }
  Knobs.declare(scope, {
    key: 'maxmemoryPolicy', description: 'Redis maxmemory-policy (eviction when maxmemory is reached)',
    schema: { type: 'string', enum: MAXMEMORY_POLICIES }, default: maxmemoryPolicy,
    targets: [{ object: w.statefulSet, path: [...containerPath, 'env', w.policyEnvIndex, 'value'] }],
  });
  if (storageSize) {
    Knobs.declare(scope, {
      key: 'persistence.size', description: 'Volume size per Redis pod (fixed once the StatefulSet exists)',
      schema: quantity, default: storageSize,
      targets: [{ object: w.statefulSet, path: ['spec', 'volumeClaimTemplates', 0, 'spec', 'resources', 'requests', 'storage'] }],
    });
  }
  if (!spec.standalone) declareQuorumKnob(scope, spec, w, alerts);
}

/**
 * `quorum`: Sentinels that must agree the master is down. The chart keeps it a majority of the Sentinels (a count
 * fixed at synth) with a template `fail` that names both values, as the construct does.
 */
function declareQuorumKnob(scope: Construct, spec: ResolvedRedisHA, w: RedisHAWorkload, alerts?: ApiObject): void {
  const { quorum, sentinels } = spec;
  const majority = Math.floor(sentinels / 2) + 1;
  const envTarget = (object: ApiObject) => {
    const env = object.toJson().spec.template.spec.containers[0].env as Array<{ name: string }>;
    return { object, path: ['spec', 'template', 'spec', 'containers', 0, 'env', env.findIndex((e) => e.name === 'QUORUM'), 'value'], template: '{{ $values.quorum }}' };
  };
  const alertTargets = [];
  if (alerts) {
    const rules = alerts.toJson().spec.groups[0].rules as Array<{ alert: string }>;
    const at = rules.findIndex((r) => r.alert === 'RedisSentinelQuorumLost');
    if (at >= 0) {
      const path = ['spec', 'groups', 0, 'rules', at];
      alertTargets.push(
        { object: alerts, path: [...path, 'expr'], fragment: `< ${quorum}`, template: '< {{ $value }}' },
        { object: alerts, path: [...path, 'annotations', 'summary'], fragment: `quorum ${quorum}`, template: 'quorum {{ $value }}' },
      );
    }
  }
  Knobs.declare(scope, {
    key: 'quorum',
    description: `Sentinels that must agree the master is down: a majority of the ${sentinels} Sentinels (${majority} to ${sentinels})`,
    schema: { type: 'integer', minimum: 1, maximum: 9 }, default: quorum,
    targets: [envTarget(w.statefulSet), ...(w.sentinelStatefulSet ? [envTarget(w.sentinelStatefulSet)] : []), ...alertTargets],
  });
  Knobs.rule(scope, {
    failWhen: `or (lt (int $values.quorum) ${majority}) (gt (int $values.quorum) ${sentinels})`,
    message: `quorum must be a majority of sentinels = ${sentinels} (fixed at synth: the sentinels prop), i.e. from ${majority} to ${sentinels}`,
    shows: ['quorum'],
  });
}
