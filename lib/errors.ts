import type { IConstruct } from 'constructs';

/** Options of a {@link ValidationError}. */
export interface ValidationErrorOptions {
  /** The value has the wrong JavaScript type: show it with its type, e.g. `5 (number)`. */
  readonly wrongType?: boolean;
}

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

  constructor(scope: IConstruct | string, property: string, value: unknown, allowed: string, options: ValidationErrorOptions = {}) {
    const path = typeof scope === 'string' ? scope : scope.node.path;
    const shown = describeValue(value);
    super(`${path}: invalid ${property} = ${options.wrongType && typeof value !== 'string' ? `${shown} (${typeName(value)})` : shown}; ${allowed}`);
    this.name = 'ValidationError';
    this.constructPath = path;
    this.property = property;
    this.value = value;
    this.allowed = allowed;
  }
}

/**
 * Every ValidationError of an app, thrown together (by the test harness and the chart writer) so one run shows all
 * mistakes. `cdk8s synth` lists the same errors through the constructs' node validations.
 */
export class ValidationErrors extends Error {
  public readonly errors: readonly ValidationError[];
  constructor(errors: readonly ValidationError[]) {
    super(`${errors.length} validation errors:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.name = 'ValidationErrors';
    this.errors = errors;
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** The value as the caller wrote it: `NaN` and `Infinity` as such (JSON would say null), strings quoted. */
export function describeValue(value: unknown): string {
  const text = show(value, 0);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function show(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string': return JSON.stringify(value);
    case 'undefined': return 'undefined';
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint': return `${value}n`;
    case 'boolean': return String(value);
    case 'symbol': return value.toString();
    case 'function': return '[function]';
    default: break;
  }
  if (value === null) return 'null';
  if (depth > 3) return '…';
  if (Array.isArray(value)) return `[${value.slice(0, 20).map((v) => show(v, depth + 1)).join(',')}${value.length > 20 ? ',…' : ''}]`;
  try {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.slice(0, 20).map(([k, v]) => `${JSON.stringify(k)}:${show(v, depth + 1)}`).join(',')}${entries.length > 20 ? ',…' : ''}}`;
  } catch {
    return String(value);
  }
}
