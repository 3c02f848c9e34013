/**
 * Kubernetes' own validation rules (k8s.io/apimachinery/pkg/util/validation, the API server's core validation, the
 * resource.Quantity parser and the distribution reference grammar), as pure functions.
 *
 * Each rule takes any JavaScript value (callers may be JavaScript, or values may come from a preset package) and
 * returns `undefined` when the value is acceptable, or a {@link Refusal}: what is allowed, phrased to follow
 * "invalid <property> = <value>; ". The same rules feed the resolve steps and the chart's values.schema.json.
 */

/** Why a value was refused. `wrongType` makes the error show the value's JavaScript type (`5 (number)`). */
export interface Refusal {
  readonly allowed: string;
  readonly wrongType?: boolean;
}

export type Rule = (value: unknown) => Refusal | undefined;

const refuse = (allowed: string, wrongType = false): Refusal => ({ allowed, ...(wrongType ? { wrongType } : {}) });

// ---------------------------------------------------------------- types

/** A string (any content); refuses other JavaScript types. */
export function stringRule(what = 'a string'): Rule {
  return (v) => (typeof v === 'string' ? undefined : refuse(`must be ${what}`, true));
}

export const INT32_MAX = 2 ** 31 - 1;
export const INT32_MIN = -(2 ** 31);

/**
 * An integer within bounds; by default within int32, the width of every integer field we write (replicas, ports,
 * UIDs are int64 in the API but the HPA's, the PDB's and most counts are int32).
 */
export function integerRule(range: { min?: number; max?: number } = {}): Rule {
  const min = range.min ?? INT32_MIN;
  const max = Math.min(range.max ?? INT32_MAX, INT32_MAX);
  const allowed = range.max === undefined
    ? `must be an integer${describeRange(range.min, undefined)}${range.min === undefined ? ' within int32' : ' (int32: at most 2147483647)'}`
    : `must be an integer${describeRange(min, max)}`;
  return (v) => {
    if (typeof v !== 'number') return refuse(allowed, true);
    if (!Number.isInteger(v) || v < min || v > max) return refuse(allowed);
    return undefined;
  };
}

export function describeRange(min?: number, max?: number): string {
  const lo = min !== undefined && min !== INT32_MIN ? min : undefined;
  const hi = max;
  if (lo !== undefined && hi !== undefined) return ` from ${lo} to ${hi}`;
  if (lo !== undefined) return ` >= ${lo}`;
  if (hi !== undefined) return ` <= ${hi}`;
  return '';
}

/** A finite number within bounds (exclusive lower bound when `above` is given). */
export function numberRule(range: { above?: number; min?: number; max?: number } = {}): Rule {
  const parts = [
    range.above !== undefined ? `> ${range.above}` : undefined,
    range.min !== undefined ? `>= ${range.min}` : undefined,
    range.max !== undefined ? `<= ${range.max}` : undefined,
  ].filter(Boolean);
  const allowed = `must be a finite number${parts.length ? ` ${parts.join(' and ')}` : ''}`;
  return (v) => {
    if (typeof v !== 'number') return refuse(allowed, true);
    if (!Number.isFinite(v)) return refuse(allowed);
    if (range.above !== undefined && !(v > range.above)) return refuse(allowed);
    if (range.min !== undefined && v < range.min) return refuse(allowed);
    if (range.max !== undefined && v > range.max) return refuse(allowed);
    return undefined;
  };
}

export function booleanRule(): Rule {
  return (v) => (typeof v === 'boolean' ? undefined : refuse('must be true or false', true));
}

/** A plain object (not an array, not null). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------- names (apimachinery/pkg/util/validation)

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
/** A DNS-1123 subdomain as regex source (no anchors), for JSON Schema patterns too. */
export const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
export const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL}$`);
export const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN}$`);
export const DNS1035_LABEL_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** RFC 1123 label: what Namespaces, container, volume and headless-Service pod host names must be (63). */
export function dns1123Label(maxLength = 63): Rule {
  return (v) => {
    if (typeof v !== 'string') return refuse('must be a string: a DNS-1123 label', true);
    if (v.length === 0 || v.length > maxLength || !DNS1123_LABEL_RE.test(v)) {
      return refuse(`must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending alphanumeric, at most ${maxLength} characters`);
    }
    return undefined;
  };
}

/** RFC 1123 subdomain: names of Deployments, StatefulSets, ConfigMaps, Secrets, Jobs, HPAs, PDBs (253). */
export function dns1123Subdomain(maxLength = 253): Rule {
  return (v) => {
    if (typeof v !== 'string') return refuse('must be a string: a DNS-1123 subdomain', true);
    if (v.length === 0 || v.length > maxLength || !DNS1123_SUBDOMAIN_RE.test(v)) {
      return refuse(`must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most ${maxLength} characters`);
    }
    return undefined;
  };
}

/** RFC 1035 label: Service names (63), since they become DNS labels starting with a letter. */
export function dns1035Label(maxLength = 63): Rule {
  return (v) => {
    if (typeof v !== 'string') return refuse('must be a string: a DNS-1035 label', true);
    if (v.length === 0 || v.length > maxLength || !DNS1035_LABEL_RE.test(v)) {
      return refuse(`must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, ending alphanumeric, at most ${maxLength} characters`);
    }
    return undefined;
  };
}

/** The name rule the API server applies to an object of `kind` (metadata.name). */
export function objectNameRule(kind: string, maxLength?: number): Rule {
  switch (kind) {
    case 'Service': return dns1035Label(maxLength ?? 63);
    case 'Namespace': return dns1123Label(maxLength ?? 63);
    // The pods' host names are <name>-<ordinal>, DNS labels; a StatefulSet name must leave room for them.
    case 'StatefulSet': return dns1123Label(maxLength ?? 63);
    default: return dns1123Subdomain(maxLength ?? 253);
  }
}

function qualifiedNameProblem(v: string): string | undefined {
  const parts = v.split('/');
  let name = v;
  if (parts.length === 2) {
    const [prefix] = parts;
    name = parts[1];
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN_RE.test(prefix)) return 'its prefix (before "/") must be a DNS-1123 subdomain';
  } else if (parts.length > 2) {
    return 'at most one "/"';
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART_RE.test(name)) {
    return "its name must be 1–63 characters of letters, digits, '-', '_' and '.', starting and ending alphanumeric";
  }
  return undefined;
}

const QUALIFIED = "must be a qualified name: an optional DNS-1123 subdomain prefix and '/', then 1–63 letters, digits, '-', '_' or '.', starting and ending alphanumeric";

/** Label keys, annotation keys, node selector keys, toleration keys. */
export function qualifiedName(): Rule {
  return (v) => {
    if (typeof v !== 'string') return refuse(`must be a string; ${QUALIFIED.slice(5)}`, true);
    const problem = qualifiedNameProblem(v);
    return problem ? refuse(`${QUALIFIED} (${problem})`) : undefined;
  };
}

export function labelValue(): Rule {
  return (v) => {
    if (typeof v !== 'string') return refuse('must be a string label value', true);
    if (v.length > 63 || !LABEL_VALUE_RE.test(v)) {
      return refuse("must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric");
    }
    return undefined;
  };
}

/** ValidateAnnotationsSize: keys plus values of one object's annotations stay within 256 KiB. */
export const TOTAL_ANNOTATION_SIZE = 256 * 1024;

/** Problems of a label map, each as [key path, value, refusal]. */
export function labelMapProblems(labels: unknown): Array<[string | undefined, unknown, Refusal]> {
  if (!isRecord(labels)) return [[undefined, labels, refuse('must be an object of label keys to label values', true)]];
  const out: Array<[string | undefined, unknown, Refusal]> = [];
  for (const [k, val] of Object.entries(labels)) {
    const kp = qualifiedName()(k);
    if (kp) out.push([k, k, kp]);
    const vp = labelValue()(val);
    if (vp) out.push([k, val, vp]);
  }
  return out;
}

/** Problems of an annotation map: qualified keys (checked lower-cased, as the API server does), string values, total size. */
export function annotationMapProblems(annotations: unknown): Array<[string | undefined, unknown, Refusal]> {
  if (!isRecord(annotations)) return [[undefined, annotations, refuse('must be an object of annotation keys to string values', true)]];
  const out: Array<[string | undefined, unknown, Refusal]> = [];
  let size = 0;
  for (const [k, val] of Object.entries(annotations)) {
    const kp = qualifiedName()(k.toLowerCase());
    if (kp) out.push([k, k, kp]);
    if (typeof val !== 'string') out.push([k, val, refuse('must be a string', true)]);
    size += k.length + (typeof val === 'string' ? val.length : 0);
  }
  if (size > TOTAL_ANNOTATION_SIZE) out.push([undefined, `${size} bytes`, refuse(`annotations must total at most ${TOTAL_ANNOTATION_SIZE} bytes (256 KiB)`)]);
  return out;
}

/** IANA_SVC_NAME: container and Service port names (15 characters, at least one letter, no "--"). */
export function portName(): Rule {
  return (v) => {
    if (typeof v !== 'string') return refuse('must be a string port name', true);
    if (v.length === 0 || v.length > 15 || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(v) || v.includes('--') || !/[a-z]/.test(v)) {
      return refuse("must be an IANA service name: 1–15 lower-case letters, digits and '-', with a letter, no '--', starting and ending alphanumeric");
    }
    return undefined;
  };
}

/** Environment variable names as Kubernetes 1.28 accepts them (IsEnvVarName; 1.30 relaxed it). */
export const ENV_NAME_RE = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
export function envVarName(): Rule {
  return (v) => {
    if (typeof v !== 'string') return refuse('must be a string environment variable name', true);
    if (!ENV_NAME_RE.test(v)) return refuse("must be an environment variable name: letters, digits, '_', '-' and '.', not starting with a digit (Kubernetes 1.28)");
    return undefined;
  };
}

/** A Secret or ConfigMap key (IsConfigMapKey). */
export function configMapKey(): Rule {
  return (v) => {
    if (typeof v !== 'string') return refuse('must be a string Secret key', true);
    if (v.length === 0 || v.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(v) || v === '.' || v === '..' || v.startsWith('..')) {
      return refuse("must be a Secret/ConfigMap key: 1–253 letters, digits, '-', '_' and '.', not '.' or starting with '..'");
    }
    return undefined;
  };
}

// ---------------------------------------------------------------- resource.Quantity

/**
 * A quantity as an exact rational: value = mantissa × 10^exp10 × 2^exp2 (no floating point, so "1Gi" and
 * "1073741824" compare equal and "0.1" + "0.2" pitfalls don't exist).
 */
export interface ParsedQuantity {
  readonly negative: boolean;
  readonly mantissa: bigint;
  readonly exp10: number;
  readonly exp2: number;
  readonly suffix: string;
}

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** The grammar of k8s.io/apimachinery/pkg/api/resource: sign, digits with an optional fraction, one suffix. */
export const QUANTITY_RE = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

/** Parses a Kubernetes quantity exactly; undefined when the string is not one (`K`, spaces, `1.5.2`, ...). */
export function parseQuantity(text: string): ParsedQuantity | undefined {
  const m = QUANTITY_RE.exec(text);
  if (!m) return undefined;
  const [, sign, number, suffix = ''] = m;
  const [whole, fraction = ''] = number.split('.');
  const mantissa = BigInt(`${whole}${fraction}` || '0');
  let exp10 = -fraction.length;
  let exp2 = 0;
  if (suffix in BINARY) exp2 = BINARY[suffix];
  else if (suffix in DECIMAL) exp10 += DECIMAL[suffix];
  else {
    const e = Number(suffix.slice(1));
    // The API server stores quantities in int64 / inf.Dec; exponents past ±1000 are surely a mistake.
    if (!Number.isSafeInteger(e) || Math.abs(e) > 1000) return undefined;
    exp10 += e;
  }
  return { negative: sign === '-' && mantissa !== 0n, mantissa, exp10, exp2, suffix };
}

function asFraction(q: ParsedQuantity): { num: bigint; den: bigint } {
  let num = q.mantissa * 2n ** BigInt(q.exp2);
  let den = 1n;
  if (q.exp10 >= 0) num *= 10n ** BigInt(q.exp10);
  else den = 10n ** BigInt(-q.exp10);
  return { num: q.negative ? -num : num, den };
}

/** -1, 0 or 1: a < b, a = b, a > b, exactly. */
export function compareQuantities(a: ParsedQuantity, b: ParsedQuantity): number {
  const x = asFraction(a);
  const y = asFraction(b);
  const l = x.num * y.den;
  const r = y.num * x.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** The quantity in base units as a JavaScript number (for derived settings; comparisons use {@link compareQuantities}). */
export function quantityToNumber(q: ParsedQuantity): number {
  const { num, den } = asFraction(q);
  return Number(num) / Number(den);
}

/** `q` × 10^scale as a number, exact when the result is a whole number below 2^53 (millicores: scale 3). */
export function quantityAtScale(q: ParsedQuantity, scale: number): number {
  const { num, den } = asFraction(q);
  const scaled = num * 10n ** BigInt(scale);
  return scaled % den === 0n ? Number(scaled / den) : Number(scaled) / Number(den);
}

/** Whether `q` × 10^scale is a whole number (cpu in millicores: scale 3; memory in bytes: scale 0). */
export function isWholeAt(q: ParsedQuantity, scale: number): boolean {
  const { num, den } = asFraction(q);
  return (num * 10n ** BigInt(scale)) % den === 0n;
}

const INT64_MAX = 2n ** 63n - 1n;

/** A positive quantity for JSON Schema (RE2, no lookaround): the grammar above with a non-zero digit somewhere. */
export const POSITIVE_QUANTITY_PATTERN = '^([0-9]*[1-9][0-9]*(\\.[0-9]*)?|[0-9]*\\.[0-9]*[1-9][0-9]*)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$';
/** A positive decimal number as text (`2`, `0.5`, `5e-7`), as KEDA parses its non-integer targets. */
export const POSITIVE_DECIMAL_PATTERN = '^([0-9]*[1-9][0-9]*(\\.[0-9]*)?|[0-9]*\\.[0-9]*[1-9][0-9]*)([eE][+-]?[0-9]+)?$';

/**
 * A positive CPU quantity whole at 1m precision, as {@link quantityRule}('cpu') requires, for JSON Schema (RE2: no
 * arithmetic, so each suffix and exponent gets the number of decimals it allows). `0.0001`, `0.1m`, `1e-4` and
 * `500u` are refused. Kept short enough to read in helm's message, it refuses a few exact but exotic forms too
 * (never the reverse): more than 6 decimals before M/G/T/P/E, more than 3 before a binary suffix or a positive
 * exponent, exponents above 15 or below -3. The int64 size bound is left to the construct and the API server.
 */
export const CPU_QUANTITY_PATTERN = cpuQuantityPattern();

function cpuQuantityPattern(): string {
  const int = '[0-9]*[1-9][0-9]*';
  /** A positive decimal with at most `n` significant fraction digits (trailing zeros free). */
  const decimal = (n: number): string => {
    if (n === 0) return `${int}(\\.0*)?`;
    // The last non-zero fraction digit at position ≤ n.
    return `(${int}(\\.[0-9]{0,${n}}0*)?|0*\\.[0-9]{0,${n - 1}}[1-9]0*)`;
  };
  const forms = [
    decimal(3),
    `${decimal(0)}m`,
    `${int}000(\\.0*)?u`,
    `${int}000000(\\.0*)?n`,
    `${decimal(6)}[kMGTPE]`,
    `${decimal(3)}(Ki|Mi|Gi|Ti|Pi|Ei|[eE]\\+?0*([0-9]|1[0-5])|[eE]-0*0)`,
    ...[1, 2, 3].map((e) => `${decimal(3 - e)}[eE]-0*${e}`),
  ];
  return `^(${forms.join('|')})$`;
}

/**
 * A positive memory or storage quantity in whole bytes, as {@link quantityRule}('memory') requires, for JSON Schema:
 * `0.5`, `1.1Ki` and `1500m` are refused, `1.5Gi`, `0.0625Gi`, `1e9` and `1.5e3` taken. Like
 * {@link CPU_QUANTITY_PATTERN} it refuses a few exact but exotic forms (more than 3 decimals before a decimal suffix or
 * exponent, binary fractions finer than 1/16) and leaves the int64 size bound to the construct.
 */
export const BYTE_QUANTITY_PATTERN = byteQuantityPattern();

function byteQuantityPattern(): string {
  const int = '[0-9]*[1-9][0-9]*';
  const decimal = (n: number): string => `(${int}(\\.[0-9]{0,${n}}0*)?|0*\\.[0-9]{0,${n - 1}}[1-9]0*)`;
  // x × 2^(10k) is whole when the d fraction digits are a multiple of 5^d (d ≤ 4 here: down to 1/16).
  const binaryFraction = '(5|25|75|125|375|625|875|0625|1875|3125|4375|5625|6875|8125|9375)0*';
  const forms = [
    `${int}(\\.0*)?`,
    `${int}000(\\.0*)?m`,
    `${int}000000(\\.0*)?u`,
    `${int}000000000(\\.0*)?n`,
    `${decimal(3)}[kMGTPE]`,
    `(${int}(\\.(0*|${binaryFraction}))?|0*\\.${binaryFraction})(Ki|Mi|Gi|Ti|Pi|Ei)`,
    `${int}(\\.0*)?[eE]\\+?0*[0-9]{1,2}`,
    `${decimal(3)}[eE]\\+?0*([3-9]|1[0-8])`,
  ];
  return `^(${forms.join('|')})$`;
}

export type QuantityKind = 'cpu' | 'memory' | 'storage' | 'any';

const QUANTITY_EXAMPLES: Record<QuantityKind, string> = {
  cpu: 'such as "250m", "2" or "1.5"',
  memory: 'such as "256Mi", "1Gi", "512M" or "1e9"',
  storage: 'such as "10Gi"',
  any: 'such as "1", "500m" or "1Gi"',
};

/**
 * A positive Kubernetes quantity of `kind`. CPU must be whole millicores (the API server keeps 1m precision);
 * memory and storage whole bytes (a fractional byte is refused by the kubelet and warned about by the API server).
 * Plain numbers from JavaScript callers are refused: "2" and 2 differ in YAML for a Helm user, so quantities are
 * strings everywhere.
 */
export function quantityRule(kind: QuantityKind): Rule {
  const noun = kind === 'any' ? 'quantity' : `${kind === 'storage' ? 'storage' : kind === 'cpu' ? 'CPU' : 'memory'} quantity`;
  const allowed = `must be a positive ${noun} ${QUANTITY_EXAMPLES[kind]} (Kubernetes quantity: decimal, binary Ki/Mi/Gi/Ti/Pi/Ei, decimal k/M/G/T/P/E or an exponent like 1e9; "K" is not a suffix)`;
  return (v) => {
    if (typeof v !== 'string') return refuse(allowed, true);
    const q = parseQuantity(v);
    if (!q || q.negative || q.mantissa === 0n) return refuse(allowed);
    const { num, den } = asFraction(q);
    if (num / den > INT64_MAX) return refuse(`${allowed}; at most 2^63-1`);
    if (kind === 'cpu' && !isWholeAt(q, 3)) return refuse(`${allowed}; CPU has 1m precision`);
    if ((kind === 'memory' || kind === 'storage') && !isWholeAt(q, 0)) return refuse(`${allowed}; whole bytes (no fraction of a byte)`);
    // The chart's values.schema.json takes exactly the forms these patterns take; a rarer exact form (e.g. "10e-4")
    // would give a chart whose own defaults fail its schema, so the construct asks for the plain spelling instead.
    const chartForm = kind === 'cpu' ? CPU_QUANTITY_RE : kind === 'any' ? undefined : BYTE_QUANTITY_RE;
    if (chartForm && !chartForm.test(v)) return refuse(`${allowed}; write it in a plain form (e.g. "1m" rather than "10e-4", "15" rather than "1.5e1"), the one a chart's values schema also takes`);
    return undefined;
  };
}

const CPU_QUANTITY_RE = new RegExp(CPU_QUANTITY_PATTERN);
const BYTE_QUANTITY_RE = new RegExp(BYTE_QUANTITY_PATTERN);

// ---------------------------------------------------------------- durations

/** Prometheus' duration grammar as the Prometheus Operator CRDs check it (`30s`, `1m30s`, `1h`). */
export const PROMETHEUS_DURATION_RE = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;

/** A positive Prometheus duration (scrape intervals, `for:` of alerts). */
export function prometheusDuration(): Rule {
  const allowed = 'must be a positive Prometheus duration such as "30s", "1m30s" or "5m" (units y, w, d, h, m, s, ms, largest first)';
  return (v) => {
    if (typeof v !== 'string') return refuse(allowed, true);
    if (v === '' || v === '0' || !PROMETHEUS_DURATION_RE.test(v) || !/[1-9]/.test(v)) return refuse(allowed);
    return undefined;
  };
}

// ---------------------------------------------------------------- image references (distribution/reference)

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
/** The anchored reference grammar: `[domain/]path[:tag][@digest]` with lower-case paths. */
export const IMAGE_REFERENCE_RE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);
/** The repository part alone (`[domain/]path`), as the chart's image.repository value takes it. */
export const IMAGE_REPOSITORY_PATTERN = `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`;
export const IMAGE_TAG_PATTERN = `^${TAG}$`;

export interface ImageReference {
  /** Registry host (and port), when given. */
  readonly domain?: string;
  /** Repository path, e.g. `team/api`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * Parses an image reference as the container runtime will (docker's normalisation: the first component is a
 * registry only if it has a '.' or ':' or is `localhost`, or has upper-case letters, which then fails).
 */
export function parseImageReference(text: string): ImageReference | undefined {
  const m = IMAGE_REFERENCE_RE.exec(text);
  if (!m) return undefined;
  const [, domainGroup, pathGroup, tag, digest] = m;
  let domain: string | undefined = domainGroup;
  let path = pathGroup;
  if (domain !== undefined && !(domain.includes('.') || domain.includes(':') || domain === 'localhost')) {
    // Docker's normalisation takes an upper-case first component for a registry host no one runs: refuse it.
    if (domain !== domain.toLowerCase()) return undefined;
    // `team/api`: a lower-case first component without '.'/':' is a Docker Hub namespace, not a registry.
    path = `${domain}/${path}`;
    domain = undefined;
  }
  if ((domain ? domain.length + 1 : 0) + path.length > 255) return undefined;
  if (digest && digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) return undefined;
  return { ...(domain ? { domain } : {}), path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/**
 * A pinned image: a valid reference with a tag other than `latest`, or a digest. An unpinned image makes every
 * rollout a different program and breaks rollbacks.
 */
export function pinnedImage(): Rule {
  const allowed = 'must be a pinned image reference: "[registry[:port]/]repository:tag" with a lower-case repository and a tag other than "latest", or "...@sha256:<64 hex digits>"';
  return (v) => {
    if (typeof v !== 'string') return refuse(allowed, true);
    const ref = parseImageReference(v);
    if (!ref) return refuse(allowed);
    if (!ref.digest && (!ref.tag || ref.tag === 'latest')) return refuse(allowed);
    return undefined;
  };
}

/** A registry prefix (`registry.example.com`, `registry.internal:5000/mirror`) for a preset's `imageRegistry`. */
export function imageRegistry(): Rule {
  const re = new RegExp(`^${DOMAIN}(?:/${PATH_COMPONENT})*/?$`);
  return (v) => {
    if (typeof v !== 'string') return refuse('must be a string registry prefix', true);
    const domain = v.split('/')[0];
    if (!re.test(v) || !(domain.includes('.') || domain.includes(':') || domain === 'localhost')) {
      return refuse('must be a registry host (with a "." or a port, or localhost) and an optional lower-case path, e.g. "registry.example.com/mirror"');
    }
    return undefined;
  };
}

// ---------------------------------------------------------------- uniqueness

/** The values that occur more than once, each once, in order of their second occurrence. */
export function duplicates<T>(values: readonly T[]): T[] {
  const seen = new Set<T>();
  const dup = new Set<T>();
  for (const v of values) {
    if (seen.has(v)) dup.add(v);
    seen.add(v);
  }
  return [...dup];
}
