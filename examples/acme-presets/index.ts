import type { Preset } from 'scalecharts';
import { TIERS } from 'scalecharts';

/**
 * An example preset package: what a platform team publishes once so every team's charts get its defaults.
 * Built and packed as its own package (package.json here: scalecharts is a peer dependency). Presets are plain objects: they compose by
 * applying several to nested scopes, the nearest winning, and call-site props always win.
 */

/** Company-wide: internal registry mirror, cost-centre labels, the dedicated node pool. */
export const platform: Preset = {
  imageRegistry: 'registry.acme.internal/mirror',
  labels: { 'acme.io/cost-centre': 'platform' },
  podAnnotations: { 'acme.io/log-format': 'json' },
  tolerations: [{ key: 'acme.io/pool', operator: 'Equal', value: 'apps', effect: 'NoSchedule' }],
  nodeSelector: { 'acme.io/pool': 'apps' },
};

/** Production: seed 003's large tier plus seed 002's 70 % / 80 % targets and a lower ceiling for cost control. */
export const production: Preset = {
  ...TIERS['large-production'],
  autoscaling: { ...TIERS['large-production'].autoscaling, cpuUtilization: 70, memoryUtilization: 80, maxReplicas: 12 },
  resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
};

/** Staging: seed 003's small-production tier. */
export const staging: Preset = TIERS['small-production'];
