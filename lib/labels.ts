import { Chart } from 'cdk8s';
import type { IConstruct } from 'constructs';
import { labelValue as labelValueRule } from './core/rules';
import { checkRule } from './validate';

/** Inputs to the `app.kubernetes.io/*` label set. */
export interface LabelInput {
  /** Resource name of the workload: becomes `app.kubernetes.io/name` and `.../instance`. */
  readonly name: string;
  /** Role inside the application, e.g. `server`, `database`, `pooler`, `worker`. */
  readonly component: string;
  /** Application this belongs to. Defaults to the enclosing cdk8s Chart's id. */
  readonly partOf?: string;
  /** Version shown in `app.kubernetes.io/version`, usually the image tag. */
  readonly version?: string;
}

/** The recommended `app.kubernetes.io/*` labels, plus any extra labels the caller or a preset adds. */
export function standardLabels(scope: IConstruct, input: LabelInput, extra: Record<string, string> = {}): Record<string, string> {
  // Every construct's labels pass here: a label value the API server would refuse stops at synth, naming the prop.
  const partOf = input.partOf ?? Chart.of(scope).node.id;
  checkRule(scope, 'component', input.component, labelValueRule());
  checkRule(scope, 'partOf', partOf, labelValueRule());
  const labels: Record<string, string> = {
    ...extra,
    'app.kubernetes.io/name': input.name,
    'app.kubernetes.io/instance': input.name,
    'app.kubernetes.io/component': input.component,
    'app.kubernetes.io/part-of': partOf,
    'app.kubernetes.io/managed-by': 'scalecharts',
  };
  if (input.version) labels['app.kubernetes.io/version'] = labelValue(input.version);
  return labels;
}

/** Labels that select the pods of one workload: stable across versions, so never include the version. */
export function selectorLabels(name: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': component,
  };
}

/** The tag (or short digest) of an image, usable as a label value. */
export function imageVersion(image: string): string | undefined {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1).replace('sha256:', '').slice(0, 12);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : undefined;
}

function labelValue(v: string): string {
  return v.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}
