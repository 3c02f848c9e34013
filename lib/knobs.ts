import type { ApiObject } from 'cdk8s';
import type { IConstruct } from 'constructs';
import { BYTE_QUANTITY_PATTERN, CPU_QUANTITY_PATTERN, IMAGE_REPOSITORY_PATTERN, IMAGE_TAG_PATTERN, POSITIVE_DECIMAL_PATTERN } from './core/rules';

/**
 * Install-time knobs: each construct declares, once, which of its settings a Helm chart user may tune, with the
 * same type, range and default the construct itself enforces. The chart writer (`lib/helm/`) turns each knob into
 * a values.yaml default, a values.schema.json entry and `{{ .Values.… }}` expressions at the knob's targets.
 */
export interface KnobSchema {
  readonly type: 'integer' | 'number' | 'string' | 'boolean' | 'array' | 'object';
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly (string | number)[];
  readonly pattern?: string;
  readonly items?: KnobSchema;
  readonly properties?: Record<string, KnobSchema>;
  readonly required?: readonly string[];
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Values the knob must not take, e.g. `{ enum: ['latest'] }` (Helm's JSON Schema regexes have no lookahead). */
  readonly not?: Partial<KnobSchema>;
  /**
   * A string knob that also takes plain numbers, as `--set cpu=1` gives them (Kubernetes quantities and KEDA
   * targets are strings in the object, but `1` and `"1"` mean the same). The number must meet these bounds.
   */
  readonly numbers?: { readonly integer?: boolean; readonly minimum?: number; readonly exclusiveMinimum?: number; readonly multipleOf?: number };
  /**
   * The knob also takes null, meaning "derived" (e.g. pool sizes that follow maxConnections): values.yaml may default
   * it to null, and the key is not required, since `--set key=null` deletes it. Its templates must handle null.
   */
  readonly nullable?: boolean;
}

/**
 * A rule across values that JSON Schema can't express (pool budget, quorum ≤ sentinels, a refused word): the chart
 * checks it in a template `fail` whose message names the values and shows what they are.
 */
export interface ValuesRule {
  /** Go template condition that is true when the values are wrong; `$values` is the construct's values root. */
  readonly failWhen: string;
  /** What must hold, in words, e.g. `pooler.replicas × (pooler.defaultPoolSize + pooler.reservePoolSize) must stay ≤ ...`. */
  readonly message: string;
  /** Knob keys (under the construct's root) whose current values the message shows. */
  readonly shows: readonly string[];
}

/** A field in a synthesized object that a knob sets. */
export interface KnobTarget {
  readonly object: ApiObject;
  /** Path into the object's JSON, e.g. `['spec', 'maxReplicas']`; array positions as numbers. */
  readonly path: ReadonlyArray<string | number>;
  /**
   * Go template that produces the field when it is not simply the knob's value; `$values` stands for the
   * construct's values root (e.g. `.Values.api`), so `{{ $values.image.repository }}:{{ $values.image.tag }}`.
   * @default the knob's value, rendered with its type
   */
  readonly template?: string;
  /**
   * When the knob sets only part of a string field (a line of a config file in a ConfigMap, a flag in an arg): the
   * exact text of that part as synthesized. It must occur exactly once in the field; the chart writer replaces it by
   * `template` (or the bare value), leaving the rest of the string as it is. `$value` in `template` is the knob's own
   * value, e.g. `{ fragment: 'max_connections = 200', template: 'max_connections = {{ $value }}' }`.
   * @default the knob sets the whole field
   */
  readonly fragment?: string;
}

export interface KnobSpec {
  /** Dotted key under the construct's values root, e.g. `autoscaling.maxReplicas`. */
  readonly key: string;
  readonly description: string;
  readonly schema: KnobSchema;
  /** The value the construct synthesized with; becomes the values.yaml default. */
  readonly default: unknown;
  readonly targets: readonly KnobTarget[];
  /**
   * Other knobs whose value must stay ordered against this one (e.g. minReplicas ≤ maxReplicas); the chart writer
   * enforces them in a template `fail`, since JSON Schema can't compare two values.
   */
  readonly lessOrEqualTo?: string;
  /**
   * Another valid value, different from the default, for the chart README and the chart tests.
   * @default derived from the schema
   */
  readonly example?: unknown;
  /**
   * Values the schema's shape allows but the construct refuses (e.g. the tag `latest`), with the reason: the chart
   * refuses them in a template `fail` that says why, where JSON Schema's `not` would only say "must not validate".
   * @default none
   */
  readonly refused?: { readonly values: readonly (string | number)[]; readonly reason: string };
}

/**
 * An object name written inside free text (a script, a config file line, an env value) in a form the chart writer's
 * host-name detection can't recognise, e.g. `kubectl get configmap orders-db-config`. Declaring it makes the chart
 * prefix that name with the release name there as well.
 */
export interface NameReference {
  readonly object: ApiObject;
  /** Path of the string field, as in {@link KnobTarget.path}. */
  readonly path: ReadonlyArray<string | number>;
  /** The object name as synthesized; every whole-token occurrence in the field is a reference. */
  readonly name: string;
}

/**
 * A Service a chart user may put behind an Ingress: the chart offers `<root>.ingress.enabled`, `className`,
 * `annotations`, `hosts` and `tls` (`helm create`'s shapes) and renders the Ingress from them, the construct's own
 * Ingress when it made one, else one of its own next to the Service (same name and labels).
 */
export interface IngressOption {
  /** The Service the Ingress routes to. */
  readonly service: ApiObject;
  /** Name of the Service port every path goes to. */
  readonly portName: string;
  /** The Ingress the construct made (the chart renders it while `ingress.enabled`, the default then). @default none */
  readonly ingress?: ApiObject;
  /** Defaults of `ingress.hosts` and `ingress.tls`: the construct's, or an example host when it made no Ingress. */
  readonly hosts: ReadonlyArray<{ readonly host: string; readonly paths: ReadonlyArray<{ readonly path: string; readonly pathType: string }> }>;
  readonly tls: ReadonlyArray<{ readonly secretName: string; readonly hosts: readonly string[] }>;
  /** Pattern of a host, as the construct checks it (RE2: helm's engine). */
  readonly hostPattern: string;
  /** Pattern of a path, as the construct checks it. */
  readonly pathPattern: string;
  /**
   * The workload's NetworkPolicy rule that admits the ingress controller while an Ingress exists: `peer` stands at
   * `index` of `from` in the rule at `rule`, present exactly when `ingress` is. @default no policy
   */
  readonly networkPolicy?: { readonly object: ApiObject; readonly rule: number; readonly index: number; readonly peer: unknown };
}

/**
 * Schemas shared by the knobs every workload declares, written for helm's Go (RE2) regexp engine: no lookaround,
 * so "latest" is refused with `not`.
 */
export const KNOB_SCHEMAS = {
  /** `[registry[:port]/]path` by the distribution reference grammar (lib/core/rules.ts). */
  imageRepository: { type: 'string', pattern: IMAGE_REPOSITORY_PATTERN },
  /** A tag; `latest` is refused by the knob's `refused` (see {@link IMAGE_TAG_REFUSED}), with a reason. */
  imageTag: { type: 'string', pattern: IMAGE_TAG_PATTERN },
  /**
   * CPU: a positive Kubernetes quantity (both suffix families, exponents) whole at 1m, as the constructs require, or
   * a positive number from `--set` that is a multiple of 0.001. `0.0001` and `0.1m` are refused.
   */
  quantity: { type: 'string', pattern: CPU_QUANTITY_PATTERN, numbers: { exclusiveMinimum: 0, multipleOf: 0.001 } },
  /** Memory and storage: a positive quantity (both suffix families, exponents) in whole bytes, as a string or a number. */
  byteQuantity: { type: 'string', pattern: BYTE_QUANTITY_PATTERN, numbers: { integer: true, minimum: 1 } },
  /** A positive decimal number as a string (KEDA targets), `5e-7` included, or a positive number from `--set`. */
  positiveDecimal: { type: 'string', pattern: POSITIVE_DECIMAL_PATTERN, numbers: { exclusiveMinimum: 0 } },
  /** A positive integer as a string (KEDA's integer targets), or one from `--set`. */
  positiveIntegerString: { type: 'string', pattern: '^[1-9][0-9]*$', numbers: { integer: true, minimum: 1 } },
} as const satisfies Record<string, KnobSchema>;

/** The unpinned tag every image knob refuses. */
export const IMAGE_TAG_REFUSED = { values: ['latest'], reason: 'not pinned: every rollout could run a different image; set a version tag such as 1.2.3' } as const;

const KNOBS = new WeakMap<IConstruct, KnobSpec[]>();
const RULES = new WeakMap<IConstruct, ValuesRule[]>();
const REFERENCES = new WeakMap<IConstruct, NameReference[]>();
const INGRESS_OPTIONS = new WeakMap<IConstruct, IngressOption>();

export class Knobs {
  /** Declares a knob on `construct`. */
  public static declare(construct: IConstruct, spec: KnobSpec): void {
    const list = KNOBS.get(construct) ?? [];
    if (list.some((k) => k.key === spec.key)) throw new Error(`${construct.node.path}: knob ${spec.key} is declared twice`);
    list.push(spec);
    KNOBS.set(construct, list);
  }

  /** Declares an object name inside free text that the chart must prefix with the release name. */
  public static reference(construct: IConstruct, ref: NameReference): void {
    const list = REFERENCES.get(construct) ?? [];
    list.push(ref);
    REFERENCES.set(construct, list);
  }

  /** Declares a rule across `construct`'s knobs, enforced by the chart in a template `fail`. */
  public static rule(construct: IConstruct, rule: ValuesRule): void {
    RULES.set(construct, [...(RULES.get(construct) ?? []), rule]);
  }

  /** Declares that a chart may put `construct`'s Service behind an Ingress (at most once per construct). */
  public static ingressOption(construct: IConstruct, option: IngressOption): void {
    if (INGRESS_OPTIONS.has(construct)) throw new Error(`${construct.node.path}: an ingress option is declared twice`);
    INGRESS_OPTIONS.set(construct, option);
  }

  /** The ingress option declared on `construct` itself. */
  public static ingressOptionOf(construct: IConstruct): IngressOption | undefined {
    return INGRESS_OPTIONS.get(construct);
  }

  /** The rules declared on `construct` itself. */
  public static rulesOf(construct: IConstruct): readonly ValuesRule[] {
    return RULES.get(construct) ?? [];
  }

  /** The name references declared on `construct` itself. */
  public static referencesOf(construct: IConstruct): readonly NameReference[] {
    return REFERENCES.get(construct) ?? [];
  }

  /** The knobs declared on `construct` itself (not its children). */
  public static of(construct: IConstruct): readonly KnobSpec[] {
    return KNOBS.get(construct) ?? [];
  }
}

/**
 * The four `resources.{requests,limits}.{cpu,memory}` knobs of a container, each targeting the same container of
 * every given workload; requests stay ≤ limits.
 */
export function declareResourceKnobs(
  construct: IConstruct,
  resources: { readonly requests: { readonly cpu: string; readonly memory: string }; readonly limits: { readonly cpu: string; readonly memory: string } },
  workloads: readonly ApiObject[],
  containerPath: ReadonlyArray<string | number>,
): void {
  for (const kind of ['requests', 'limits'] as const) {
    for (const field of ['cpu', 'memory'] as const) {
      Knobs.declare(construct, {
        key: `resources.${kind}.${field}`, description: `Container ${field} ${kind}`, schema: field === 'cpu' ? KNOB_SCHEMAS.quantity : KNOB_SCHEMAS.byteQuantity,
        default: resources[kind][field],
        targets: workloads.map((object) => ({ object, path: [...containerPath, 'resources', kind, field] })),
        ...(kind === 'requests' ? { lessOrEqualTo: `resources.limits.${field}` } : {}),
      });
    }
  }
}
