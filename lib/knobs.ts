import type { ApiObject } from 'cdk8s';
import type { IConstruct } from 'constructs';

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
}

const KNOBS = new WeakMap<IConstruct, KnobSpec[]>();

export class Knobs {
  /** Declares a knob on `construct`. */
  public static declare(construct: IConstruct, spec: KnobSpec): void {
    const list = KNOBS.get(construct) ?? [];
    list.push(spec);
    KNOBS.set(construct, list);
  }

  /** The knobs declared on `construct` itself (not its children). */
  public static of(construct: IConstruct): readonly KnobSpec[] {
    return KNOBS.get(construct) ?? [];
  }
}
