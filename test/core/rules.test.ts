import { describe, expect, it } from 'vitest';
import {
  annotationMapProblems, compareQuantities, dns1035Label, dns1123Label, dns1123Subdomain, duplicates, envVarName, imageRegistry,
  integerRule, labelMapProblems, labelValue, numberRule, objectNameRule, parseImageReference, parseQuantity, pinnedImage,
  portName, prometheusDuration, qualifiedName, quantityRule, Rule, TOTAL_ANNOTATION_SIZE,
} from '../../lib/core/rules';
import { describeValue, ValidationError } from '../../lib/errors';

const accepts = (rule: Rule, ...values: unknown[]) => values.forEach((v) => expect(rule(v), JSON.stringify(v)).toBeUndefined());
const refuses = (rule: Rule, ...values: unknown[]) => values.forEach((v) => expect(rule(v), String(v)).toBeDefined());

describe('names (apimachinery validation)', () => {
  it('qualified names: optional DNS subdomain prefix, 63-character name part', () => {
    accepts(qualifiedName(), 'app', 'app.kubernetes.io/name', 'A_b.c-D', 'x/y', 'a'.repeat(63), `${'a'.repeat(253)}/b`);
    refuses(qualifiedName(), '', 'bad key!', 'a/b/c', '/a', 'a/', '-a', 'a-', 'a'.repeat(64), 'Ex.com/a', `${'a'.repeat(254)}/b`, 5, null);
  });
  it('label values: empty or 63 alphanumeric-bounded characters', () => {
    accepts(labelValue(), '', 'v1.2.3', 'API_Server', 'a'.repeat(63));
    refuses(labelValue(), 'API Server', 'x/y', '-a', 'a.', 'a'.repeat(64), 5, undefined);
  });
  it('label and annotation maps report each key and value', () => {
    expect(labelMapProblems({ ok: 'v', 'bad key': 'v', team: 'a b' }).map(([k]) => k)).toEqual(['bad key', 'team']);
    expect(annotationMapProblems({ 'Example.COM/Owner': 'x' })).toEqual([]); // keys are checked lower-cased
    expect(annotationMapProblems({ 'a b': 'x', n: 5 as unknown as string }).map(([k]) => k)).toEqual(['a b', 'n']);
    expect(annotationMapProblems({ big: 'x'.repeat(TOTAL_ANNOTATION_SIZE) })).toHaveLength(1);
    expect(annotationMapProblems({ big: 'x'.repeat(TOTAL_ANNOTATION_SIZE - 3) })).toEqual([]);
  });
  it('DNS-1123 label / subdomain and DNS-1035 by object kind', () => {
    accepts(dns1123Label(), 'a', '1a', 'a-1');
    refuses(dns1123Label(), 'a.b', 'A', '-a', 'a'.repeat(64), '');
    accepts(dns1123Subdomain(), 'a.b-c.d', '1.2');
    refuses(dns1123Subdomain(), 'a..b', 'a_b', 'a'.repeat(254));
    accepts(dns1035Label(), 'api');
    refuses(dns1035Label(), '1api', 'a.b');
    expect(objectNameRule('Service')('1api')).toBeDefined();
    expect(objectNameRule('Deployment')('1api')).toBeUndefined();
    expect(objectNameRule('ConfigMap')('a.b')).toBeUndefined();
    expect(objectNameRule('StatefulSet')('a.b')).toBeDefined();
  });
  it('port names are IANA service names', () => {
    accepts(portName(), 'http', 'metrics', 'h2c', 'a-b');
    refuses(portName(), '80', 'a--b', 'HTTP', 'a'.repeat(16), '-a');
  });
  it('env names follow the 1.28 rule', () => {
    accepts(envVarName(), 'A', '_x', 'a.b-c', 'DB_URL2');
    refuses(envVarName(), '', '1A', 'A B', 'A=B', 'Ä', 5);
  });
});

describe('resource.Quantity', () => {
  it('parses both suffix families and exponents; refuses K and malformed strings', () => {
    for (const q of ['1', '0.5', '.5', '1.', '500m', '1Ki', '1Mi', '1Gi', '1Ei', '1k', '1M', '1G', '1T', '1P', '1E', '5e-7', '1E3', '1e+3', '+1', '100n', '2u']) {
      expect(parseQuantity(q), q).toBeDefined();
    }
    for (const q of ['512K', '1KB', 'lots', '', ' 1', '1 ', '1.5.2', '1Gi1', 'e3', '1ee3', '0x10', '1mi', 'Infinity', 'NaN']) {
      expect(parseQuantity(q), q).toBeUndefined();
    }
  });
  it('compares exactly across notations', () => {
    const cmp = (a: string, b: string) => compareQuantities(parseQuantity(a)!, parseQuantity(b)!);
    expect(cmp('1Gi', '1073741824')).toBe(0);
    expect(cmp('1G', '1e9')).toBe(0);
    expect(cmp('2000m', '2')).toBe(0);
    expect(cmp('0.1', '100m')).toBe(0);
    expect(cmp('1Gi', '1G')).toBe(1);
    expect(cmp('999m', '1')).toBe(-1);
    expect(cmp('1e-3', '1m')).toBe(0);
  });
  it('cpu: whole millicores, positive; memory: whole bytes', () => {
    accepts(quantityRule('cpu'), '1', '250m', '0.5', '1e-3', '2', '1k');
    refuses(quantityRule('cpu'), '0', '-1', '0.0001', '100u', 1, NaN, '512K', '');
    accepts(quantityRule('memory'), '256Mi', '1e9', '512M', '1073741824', '1.5Gi');
    refuses(quantityRule('memory'), '512K', '0.5', '0Mi', '-1Gi', '12XB', 256, '1e400', '99999999999E');
  });
  it('wrong JavaScript types are marked as such', () => {
    expect(quantityRule('cpu')(1)).toMatchObject({ wrongType: true });
    expect(quantityRule('cpu')('0')).not.toHaveProperty('wrongType');
  });
});

describe('numbers', () => {
  it('int32 bounds by default', () => {
    accepts(integerRule(), 0, -5, 2 ** 31 - 1);
    refuses(integerRule(), 2 ** 31, 1e10, -(2 ** 31) - 1, 1.5, NaN, Infinity, '3');
    refuses(integerRule({ min: 1 }), 0, 2 ** 31);
    expect(integerRule({ min: 1 })(0)!.allowed).toMatch(/>= 1/);
    expect(integerRule({ min: 1, max: 5 })(6)!.allowed).toMatch(/from 1 to 5/);
    expect(integerRule({ max: 1e12 })(2 ** 31)).toBeDefined();
  });
  it('finite numbers', () => {
    accepts(numberRule({ above: 0 }), 5e-7, 1, 1e6);
    refuses(numberRule({ above: 0 }), 0, -1, NaN, Infinity, '1');
  });
});

describe('Prometheus durations', () => {
  it('accepts unit sequences largest first, refuses bare numbers and words', () => {
    accepts(prometheusDuration(), '30s', '1m30s', '5m', '1h', '2d', '1w', '1y', '500ms', '1h0m');
    refuses(prometheusDuration(), 'abc', '30', '', '0', '0s', '30 s', '1s1m', '1.5m', 30, '-1s');
  });
});

describe('image references (distribution grammar)', () => {
  it('parses registry with port, path, tag and digest', () => {
    expect(parseImageReference('registry.internal:5000/team/api:1.2.3')).toEqual({ domain: 'registry.internal:5000', path: 'team/api', tag: '1.2.3' });
    expect(parseImageReference('team/api:1')).toEqual({ path: 'team/api', tag: '1' });
    expect(parseImageReference('localhost/api:1')).toEqual({ domain: 'localhost', path: 'api', tag: '1' });
    expect(parseImageReference(`api:1@sha256:${'a'.repeat(64)}`)).toMatchObject({ tag: '1', digest: `sha256:${'a'.repeat(64)}` });
    expect(parseImageReference('[::1]:5000/api:1')).toMatchObject({ domain: '[::1]:5000' });
  });
  it('pinned images only: tag other than latest, or a digest', () => {
    accepts(pinnedImage(), 'nginx:1.25', 'registry.internal:5000/team/api:1.2.3', 'ghcr.io/a/b-c_d.e:v1', `app@sha256:${'a'.repeat(64)}`,
      'localhost:5000/app:1.0', 'a__b/c--d:1');
    refuses(pinnedImage(), 'Nginx:1.0', ':1.0', 'ng inx:1.0', 'nginx', 'nginx:latest', 'ghcr.io/a/b', 'localhost:5000/app', 'app@sha256:abc',
      ' app:1', 'app:1 ', 'Team/api:1', 'a/B:1', 'app:-1', 'a_/b:1', `app:${'t'.repeat(129)}`, `${'a'.repeat(256)}:1`, 5, undefined, '');
  });
  it('registry prefixes for presets', () => {
    accepts(imageRegistry(), 'registry.example.com', 'registry.internal:5000/mirror', 'localhost:5000', 'r.io/');
    refuses(imageRegistry(), 'mirror', 'Registry.example.com/Team', 'r.io/A', '', 5);
  });
});

describe('uniqueness and error display', () => {
  it('finds duplicates', () => {
    expect(duplicates([80, 8080, 80, 9090, 8080, 80])).toEqual([80, 8080]);
    expect(duplicates(['a', 'b'])).toEqual([]);
  });
  it('shows NaN, Infinity and wrong types as given', () => {
    expect(describeValue(NaN)).toBe('NaN');
    expect(describeValue(-Infinity)).toBe('-Infinity');
    expect(describeValue({ a: NaN, b: [Infinity, 'x'] })).toBe('{"a":NaN,"b":[Infinity,"x"]}');
    expect(new ValidationError('app/api', 'image', 5, 'must be a string', { wrongType: true }).message).toBe('app/api: invalid image = 5 (number); must be a string');
    expect(new ValidationError('app/api', 'replicas', NaN, 'must be an integer').message).toBe('app/api: invalid replicas = NaN; must be an integer');
    expect(new ValidationError('app/api', 'x', null, 'y', { wrongType: true }).message).toContain('null (null)');
  });
});
