import type { IConstruct, IValidation } from 'constructs';
import { ValidationError, ValidationErrors } from '../errors';
import type { Refusal, Rule } from './rules';

/**
 * Collects every ValidationError of one resolve step instead of stopping at the first, so a user sees all the
 * mistakes of a construct (and, through node validations, of a whole app) in one synth.
 */
export class Problems {
  public readonly errors: ValidationError[] = [];
  constructor(public readonly scope: IConstruct | string) {}

  public get ok(): boolean {
    return this.errors.length === 0;
  }

  /** Records a refusal of `value` at `property`. */
  public add(property: string, value: unknown, allowed: string, wrongType = false): void {
    this.errors.push(new ValidationError(this.scope, property, value, allowed, { wrongType }));
  }

  public refusal(property: string, value: unknown, r: Refusal): void {
    this.add(property, value, r.allowed, r.wrongType);
  }

  /** Checks `value` against `rule`; records the refusal and returns false when it fails. */
  public check(property: string, value: unknown, rule: Rule): boolean {
    const r = rule(value);
    if (r) this.refusal(property, value, r);
    return !r;
  }

  /** `value` when it passes `rule`, else `fallback` (the problem recorded), so resolving can go on and find more. */
  public value<T>(property: string, value: unknown, rule: Rule, fallback: T): T {
    return this.check(property, value, rule) ? (value as T) : fallback;
  }

  /**
   * Runs a check written in the throwing style (shared helpers, other constructs' checks): a ValidationError it throws
   * is recorded and `fallback` returned. Any other error is a bug and propagates.
   */
  public run<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ValidationError) {
        this.errors.push(e);
        return fallback;
      }
      if (e instanceof ValidationErrors) {
        this.errors.push(...e.errors);
        return fallback;
      }
      throw e;
    }
  }

  /** Throws what was found: nothing, the one error, or all of them together. */
  public throwIfAny(): void {
    throwAll(this.errors);
  }
}

export function throwAll(errors: readonly ValidationError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new ValidationErrors(errors);
}

/** A node validation whose last run's ValidationErrors can be read back as objects (not only as messages). */
class RecordedValidation implements IValidation {
  public last: ValidationError[] = [];
  constructor(private readonly produce: () => readonly ValidationError[]) {}
  public validate(): string[] {
    this.last = [...this.produce()];
    return this.last.map((e) => e.message);
  }
}

const RECORDED = new WeakMap<IConstruct, RecordedValidation[]>();

function register(construct: IConstruct, v: RecordedValidation): void {
  const list = RECORDED.get(construct) ?? [];
  list.push(v);
  RECORDED.set(construct, list);
  construct.node.addValidation(v);
}

/**
 * Reports errors found while building `construct` without throwing: `cdk8s synth` (App.synth) lists them with every
 * other construct's, so three mistakes in an app show up together.
 */
export function recordErrors(construct: IConstruct, errors: readonly ValidationError[]): void {
  if (errors.length === 0) return;
  const copy = [...errors];
  register(construct, new RecordedValidation(() => copy));
}

/**
 * A check that can only run once the whole app is built (connection budgets, env names after wiring): runs at synth
 * with the other validations; every ValidationError it finds (or throws) is reported.
 */
export function addDeferredCheck(construct: IConstruct, check: (problems: Problems) => void): void {
  register(construct, new RecordedValidation(() => {
    const problems = new Problems(construct);
    problems.run(() => check(problems), undefined);
    return problems.errors;
  }));
}

/**
 * Runs every node validation under `scope` (as App.synth does) and returns the ValidationErrors found. Messages of
 * validations that are not ours become ValidationErrors on the construct, property `validation`.
 */
export function validateAll(scope: IConstruct): ValidationError[] {
  const out: ValidationError[] = [];
  for (const c of scope.node.findAll()) {
    const messages = c.node.validate();
    const ours = RECORDED.get(c) ?? [];
    const known = new Set<string>();
    for (const v of ours) for (const e of v.last) { out.push(e); known.add(e.message); }
    for (const m of messages) if (!known.has(m)) out.push(new ValidationError(c, 'validation', undefined, m));
  }
  return out;
}

/** {@link validateAll}, throwing what it finds (one error as itself, several as {@link ValidationErrors}). */
export function throwIfInvalid(scope: IConstruct): void {
  throwAll(validateAll(scope));
}
