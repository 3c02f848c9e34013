import type { IConstruct } from 'constructs';

/**
 * Raised at synth time when a construct is given props it cannot turn into a correct manifest.
 *
 * The message always names the construct path, the property, the offending value and what is allowed,
 * so a CI log points straight at the call site that needs fixing.
 */
export class ValidationError extends Error {
  /** Construct path, e.g. `app/prod/api`. */
  public readonly constructPath: string;
  /** Property path as written in the props, e.g. `autoscaling.maxReplicas`. */
  public readonly property: string;
  /** The offending value. */
  public readonly value: unknown;
  /** What would have been accepted. */
  public readonly allowed: string;

  constructor(scope: IConstruct | string, property: string, value: unknown, allowed: string) {
    const path = typeof scope === 'string' ? scope : scope.node.path;
    super(`${path}: invalid ${property} = ${describeValue(value)}; ${allowed}`);
    this.name = 'ValidationError';
    this.constructPath = path;
    this.property = property;
    this.value = value;
    this.allowed = allowed;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    const json = JSON.stringify(value);
    return json.length > 120 ? `${json.slice(0, 117)}...` : json;
  } catch {
    return String(value);
  }
}
