import type { IConstruct } from 'constructs';
import { ValidationError } from './errors';

/** Shared prop checks. Each throws a {@link ValidationError} naming construct path, property, value and the rule. */

export function checkInteger(
  scope: IConstruct, property: string, value: number, range: { min?: number; max?: number } = {},
): number {
  const { min, max } = range;
  const bounds = describeRange(min, max);
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ValidationError(scope, property, value, `must be an integer${bounds}`);
  }
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw new ValidationError(scope, property, value, `must be an integer${bounds}`);
  }
  return value;
}

function describeRange(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
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
    throw new ValidationError(scope, property, value, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  return value;
}

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A name used for a Service and the workloads behind it: an RFC 1035 label (Services require it),
 * short enough to leave room for the suffixes we append (`-ro`, `-pooler`, StatefulSet ordinals).
 */
export function checkResourceName(scope: IConstruct, property: string, value: string, maxLength = 52): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || !DNS_1035_LABEL.test(value)) {
    throw new ValidationError(scope, property, value,
      `must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, ending alphanumeric, at most ${maxLength} characters`);
  }
  return value;
}

/** A name of an object that no Service derives from (Secrets, ConfigMaps): an RFC 1123 subdomain. */
export function checkObjectName(scope: IConstruct, property: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253 || !DNS_1123_SUBDOMAIN.test(value)) {
    throw new ValidationError(scope, property, value,
      "must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most 253 characters");
  }
  return value;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
export function checkEnvName(scope: IConstruct, property: string, value: string): string {
  if (!ENV_NAME.test(value)) {
    throw new ValidationError(scope, property, value, "must be a C identifier-like name (letters, digits, '_', '-', '.'; not starting with a digit)");
  }
  return value;
}

/**
 * Images must be pinned: a tag other than `latest`, or a digest. An unpinned image makes every rollout a
 * different program and breaks rollbacks.
 */
export function checkImage(scope: IConstruct, property: string, value: string): string {
  const allowed = 'must be pinned: "<repository>:<tag>" with a tag other than "latest", or "<repository>@sha256:<digest>"';
  if (typeof value !== 'string' || value.trim() !== value || value.length === 0) {
    throw new ValidationError(scope, property, value, allowed);
  }
  const at = value.indexOf('@');
  if (at >= 0) {
    if (!/^sha256:[a-f0-9]{64}$/.test(value.slice(at + 1))) throw new ValidationError(scope, property, value, allowed);
    return value;
  }
  const lastSlash = value.lastIndexOf('/');
  const colon = value.lastIndexOf(':');
  if (colon <= lastSlash) throw new ValidationError(scope, property, value, allowed);
  const tag = value.slice(colon + 1);
  if (tag === 'latest' || !/^[\w][\w.-]{0,127}$/.test(tag)) throw new ValidationError(scope, property, value, allowed);
  return value;
}

const CPU = /^([0-9]+(\.[0-9]+)?)(m?)$/;
const MEMORY = /^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?$/;
const MEMORY_FACTORS: Record<string, number> = {
  '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Parses a CPU quantity ("500m", "2", "0.5") into millicores; throws a ValidationError if malformed or not positive. */
export function parseCpu(scope: IConstruct, property: string, value: string): number {
  const m = typeof value === 'string' ? CPU.exec(value) : null;
  const millis = m ? Number(m[1]) * (m[3] === 'm' ? 1 : 1000) : NaN;
  if (!m || !(millis > 0)) {
    throw new ValidationError(scope, property, value, 'must be a positive CPU quantity such as "250m" or "2"');
  }
  return millis;
}

/** Parses a memory quantity ("256Mi", "1Gi", "512M") into bytes; throws a ValidationError if malformed or not positive. */
export function parseMemory(scope: IConstruct, property: string, value: string): number {
  const m = typeof value === 'string' ? MEMORY.exec(value) : null;
  const bytes = m ? Number(m[1]) * MEMORY_FACTORS[m[3] ?? ''] : NaN;
  if (!m || !(bytes > 0)) {
    throw new ValidationError(scope, property, value, 'must be a positive memory quantity such as "256Mi" or "1Gi"');
  }
  return bytes;
}

export const MIB = 2 ** 20;
export const GIB = 2 ** 30;
