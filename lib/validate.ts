import type { IConstruct } from 'constructs';
import {
  Rule, dns1035Label, dns1123Subdomain, envVarName, integerRule, parseQuantity, pinnedImage, quantityAtScale, quantityRule,
} from './core/rules';
import { ValidationError } from './errors';

/**
 * Shared prop checks in the throwing style, built on the Kubernetes rules of lib/core/rules.ts. Each throws a
 * {@link ValidationError} naming construct path, property, value and the rule; a resolve step that collects every
 * error runs them through `Problems.run` or uses the rules directly.
 */

/** Throws the refusal of `rule`, if any; returns the value. */
export function checkRule<T>(scope: IConstruct | string, property: string, value: T, rule: Rule): T {
  const r = rule(value);
  if (r) throw new ValidationError(scope, property, value, r.allowed, { wrongType: r.wrongType });
  return value;
}

/** An integer within `range`, and always within int32 (what replicas, ports, UIDs and counts fit in the API). */
export function checkInteger(
  scope: IConstruct, property: string, value: number, range: { min?: number; max?: number } = {},
): number {
  return checkRule(scope, property, value, integerRule(range));
}

/** A utilization target in percent, as the HPA takes it. */
export function checkPercent(scope: IConstruct, property: string, value: number): number {
  return checkInteger(scope, property, value, { min: 1, max: 100 });
}

export function checkPort(scope: IConstruct, property: string, value: number): number {
  return checkInteger(scope, property, value, { min: 1, max: 65535 });
}

export function checkOneOf<T extends string>(scope: IConstruct, property: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw new ValidationError(scope, property, value, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
      { wrongType: typeof value !== 'string' });
  }
  return value;
}

/**
 * A name used for a Service and the workloads behind it: an RFC 1035 label (Services require it),
 * short enough to leave room for the suffixes we append (`-ro`, `-pooler`, StatefulSet ordinals).
 */
export function checkResourceName(scope: IConstruct, property: string, value: string, maxLength = 52): string {
  return checkRule(scope, property, value, dns1035Label(maxLength));
}

/** A name of an object that no Service derives from (Secrets, ConfigMaps): an RFC 1123 subdomain. */
export function checkObjectName(scope: IConstruct, property: string, value: string): string {
  return checkRule(scope, property, value, dns1123Subdomain());
}

export function checkEnvName(scope: IConstruct, property: string, value: string): string {
  return checkRule(scope, property, value, envVarName());
}

/**
 * Images must be valid references (distribution grammar: registry host and port, lower-case path, tag, digest) and
 * pinned: a tag other than `latest`, or a digest.
 */
export function checkImage(scope: IConstruct, property: string, value: string): string {
  return checkRule(scope, property, value, pinnedImage());
}

/** Parses a CPU quantity ("500m", "2", "0.5", "1e-1") into millicores; throws a ValidationError if malformed or not positive. */
export function parseCpu(scope: IConstruct, property: string, value: string): number {
  checkRule(scope, property, value, quantityRule('cpu'));
  return quantityAtScale(parseQuantity(value)!, 3);
}

/** Parses a memory quantity ("256Mi", "1Gi", "512M", "1e9") into bytes; throws a ValidationError if malformed or not positive. */
export function parseMemory(scope: IConstruct, property: string, value: string): number {
  checkRule(scope, property, value, quantityRule('memory'));
  return quantityAtScale(parseQuantity(value)!, 0);
}

export const MIB = 2 ** 20;
export const GIB = 2 ** 30;
