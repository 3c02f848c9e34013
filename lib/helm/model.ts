/**
 * What a written chart contains, in data: each value with its targets, the generated Secrets, the hooks and the CRD
 * toggles. The chart tests read it to know what every `--set` must change; the README and NOTES are written from it.
 */
import type { KnobSchema } from '../knobs';

/** A field of a synthesized object, named by the object's plain (un-prefixed) name. */
export interface FieldRef {
  readonly kind: string;
  readonly name: string;
  readonly path: ReadonlyArray<string | number>;
  /**
   * True when the field takes the value itself (typed); false when the value is part of a template (a string the
   * value is formatted into, or a fragment of a config file).
   */
  readonly exact: boolean;
}

export interface ValueInfo {
  /** Dotted values path, e.g. `api.autoscaling.maxReplicas`. */
  readonly path: string;
  readonly description: string;
  readonly schema: KnobSchema;
  readonly default: unknown;
  readonly example?: unknown;
  /** Full values path this value must not exceed, enforced by a template `fail`. */
  readonly lessOrEqualTo?: string;
  /** Fields this value sets. */
  readonly targets: readonly FieldRef[];
  /** Fields of other values' templates that read this value too (e.g. the image from repository and tag). */
  readonly alsoRead: readonly FieldRef[];
}

export interface GeneratedSecretInfo {
  /** Plain name of the Secret (the chart's is `<release>-<name>`). */
  readonly name: string;
  /** Values path of the "use this existing Secret instead" setting. */
  readonly existingSecretPath: string;
  readonly keys: Readonly<Record<string, number>>;
}

/** A Secret the chart's objects read that the chart neither contains nor generates: the user creates it. */
export interface ExternalSecretInfo {
  /** Its name in plain manifests. A release reads `<release>-<name>` unless `valuePath` names an existing Secret. */
  readonly name: string;
  /** The value that overrides the name, e.g. `userSecrets.rpcUrls.name`. */
  readonly valuePath: string;
  readonly keys: readonly string[];
  /** `Kind/name` (plain names) of the objects reading it. */
  readonly usedBy: readonly string[];
}

export interface HookInfo {
  readonly kind: string;
  readonly name: string;
  /** `helm.sh/hook` value, e.g. `pre-install,pre-upgrade`. */
  readonly hook: string;
  readonly weight: string;
  readonly deletePolicy: string;
  /**
   * In-chart objects the hook's pod can't start without (Secrets and ConfigMaps it reads, volumes, its
   * ServiceAccount). They don't exist yet when a pre-install hook runs, so such hooks run right after install (and
   * still before every upgrade). Host names in env values don't count: a migration against a database of the same
   * chart fails at first install (see README.md, "Publishing a chart").
   */
  readonly dependsOn: readonly string[];
}

export interface CrdToggleInfo {
  /** Values path of the toggle: `true`, `false` or `"auto"` (render only when the cluster serves the API). */
  readonly path: string;
  readonly group: string;
  /** Objects rendered only when the toggle allows: `Kind/name` (plain names). */
  readonly objects: readonly string[];
  /** `group/version/Kind` of those objects: what `.Capabilities.APIVersions.Has` checks for "auto" (`--api-versions`). */
  readonly apiVersions: readonly string[];
}

/** A value that turns objects on and off (`<root>.pdb.enabled`, `<root>.serviceAccount.create`). */
export interface SwitchInfo {
  readonly path: string;
  readonly default: boolean;
  /** Objects rendered only when the switch is on: `Kind/name` (plain names). */
  readonly objects: readonly string[];
  readonly description: string;
  /** Fields of other objects the switch changes too (the NetworkPolicy peer `ingress.enabled` admits). @default none */
  readonly alsoChanges?: readonly FieldRef[];
}

export interface ChartModel {
  readonly chartName: string;
  readonly namespace?: string;
  readonly values: readonly ValueInfo[];
  readonly generatedSecrets: readonly GeneratedSecretInfo[];
  /** Secrets to create before installing (values only you have: provider URLs with API keys, TLS certificates). */
  readonly externalSecrets: readonly ExternalSecretInfo[];
  readonly hooks: readonly HookInfo[];
  readonly crdToggles: readonly CrdToggleInfo[];
  /** Switches of objects (autoscaling, pdb, networkPolicy, ingress, metrics, serviceAccount.create). */
  readonly switches: readonly SwitchInfo[];
  /** Every object of the plain synth, `Kind/name`, with the template file it is written to. */
  readonly objects: ReadonlyArray<{ readonly kind: string; readonly name: string; readonly file: string }>;
  /** The longest release name the chart accepts (object names stay within Kubernetes' limits). */
  readonly maxReleaseNameLength: number;
}
