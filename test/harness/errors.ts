import { expect } from 'vitest';
import { ValidationError, ValidationErrors } from '../../lib';

/**
 * Runs `fn` and asserts it throws a ValidationError for `property` on the construct at `path`, whose message
 * names the path, the property, the value and matches `allowed`.
 */
export function expectValidationError(
  fn: () => unknown,
  expected: { path: string; property: string; value?: unknown; allowed?: RegExp },
): ValidationError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  // Several mistakes are reported together: pick the one this assertion is about.
  if (thrown instanceof ValidationErrors) {
    thrown = thrown.errors.find((e) => e.constructPath === expected.path && e.property === expected.property) ?? thrown;
  }
  expect(thrown, 'expected a ValidationError').toBeInstanceOf(ValidationError);
  const err = thrown as ValidationError;
  expect(err.constructPath).toBe(expected.path);
  expect(err.property).toBe(expected.property);
  expect(err.message).toContain(expected.path);
  expect(err.message).toContain(expected.property);
  if ('value' in expected) {
    expect(err.value).toEqual(expected.value);
    expect(err.message).toContain(typeof expected.value === 'string' ? JSON.stringify(expected.value) : String(expected.value));
  }
  if (expected.allowed) expect(err.allowed).toMatch(expected.allowed);
  return err;
}
