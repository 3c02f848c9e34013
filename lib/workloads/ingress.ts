import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { Problems } from '../core/problems';
import { dns1123Subdomain, duplicates, isRecord } from '../core/rules';
import { annotationMap } from './pod-props';

/**
 * The Ingress in front of a StatelessService (issue 17): several hosts, several paths per host, TLS per host set,
 * annotations and a class. The single-host shorthand (`host`, `path`, `tlsSecretName`) stays for existing callers.
 */

/** One path of a host, routed to the Service's `http` port. */
export interface IngressPathProps {
  /** @default `/` */
  readonly path?: string;
  /** @default `Prefix` */
  readonly pathType?: 'Prefix' | 'Exact' | 'ImplementationSpecific';
}

/** A host and its paths. */
export interface IngressHostProps {
  /** DNS name, e.g. `api.example.com`, or a wildcard `*.example.com`. */
  readonly host: string;
  /** @default `[{ path: '/', pathType: 'Prefix' }]` */
  readonly paths?: readonly IngressPathProps[];
}

/** A certificate (a `kubernetes.io/tls` Secret) for some of the hosts. */
export interface IngressTlsProps {
  /** Hosts the certificate covers: each one of `hosts[].host`. */
  readonly hosts: readonly string[];
  readonly secretName: string;
}

/**
 * Ingress in front of the Service: `hosts` (with `tls`), or the shorthand `host` (with `path`, `tlsSecretName`).
 * The NetworkPolicy admits the controller from `networkPolicy.ingressController` (default: namespace `ingress-nginx`).
 */
export interface IngressProps {
  /** Hosts and their paths (not with `host`). @default the shorthand `host` */
  readonly hosts?: readonly IngressHostProps[];
  /** Certificates for the hosts (not with `tlsSecretName`). @default no TLS section */
  readonly tls?: readonly IngressTlsProps[];
  /** IngressClass to use. @default the cluster's default class */
  readonly className?: string;
  /** Annotations of the Ingress (controller settings, cert-manager issuer, …). @default none */
  readonly annotations?: Record<string, string>;
  /** Shorthand for one host (not with `hosts`), e.g. `api.example.com`. */
  readonly host?: string;
  /** Path of the shorthand host. @default `/` */
  readonly path?: string;
  /** Secret with the TLS certificate of the shorthand host. @default no TLS section */
  readonly tlsSecretName?: string;
}

export interface ResolvedIngress {
  readonly className?: string;
  readonly annotations: Record<string, string>;
  readonly rules: ReadonlyArray<{ readonly host: string; readonly paths: ReadonlyArray<{ readonly path: string; readonly pathType: string }> }>;
  readonly tls: ReadonlyArray<{ readonly hosts: readonly string[]; readonly secretName: string }>;
}

/** An Ingress host: a DNS-1123 subdomain of at least two labels, or one with a leading `*.` (IsWildcardDNS1123Subdomain). */
export const INGRESS_HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
/** An absolute HTTP path (the characters RFC 3986 allows). */
export const HTTP_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;
const PATH_TYPES = ['Prefix', 'Exact', 'ImplementationSpecific'];
const IPV4 = /^[0-9]+(\.[0-9]+){3}$/;

function hostRule(p: Problems, property: string, v: unknown): string | undefined {
  const ok = typeof v === 'string' && v.length <= 253 && INGRESS_HOST.test(v) && !IPV4.test(v);
  if (!ok) p.add(property, v, 'must be a fully qualified DNS name such as api.example.com, or a wildcard such as *.example.com (not an IP address)', typeof v !== 'string');
  return ok ? (v as string) : undefined;
}

/** A path as the API server accepts it for its type (validateIngressHTTPPath): no `//`, `/./`, `/../` or `%2f` for Prefix and Exact. */
function pathRule(p: Problems, property: string, v: unknown, pathType: string): string | undefined {
  if (typeof v !== 'string' || !HTTP_PATH.test(v)) {
    p.add(property, v, 'must be an absolute HTTP path starting with "/"', typeof v !== 'string');
    return undefined;
  }
  if (pathType !== 'ImplementationSpecific' && (/\/\/|\/\.\/|\/\.\.\/|%2f/i.test(v) || /\/\.\.?$/.test(v))) {
    p.add(property, v, `must not contain "//", "/./", "/../" or "%2f", nor end in "/." or "/..", for pathType ${pathType}`);
    return undefined;
  }
  return v;
}

export function resolveIngress(p: Problems, ing: unknown): ResolvedIngress | undefined {
  if (!isRecord(ing)) {
    p.add('ingress', ing, 'must be { hosts, tls, className, annotations } or the shorthand { host, path, tlsSecretName }', true);
    return undefined;
  }
  const errors = p.errors.length;
  const className = ing.className === undefined ? undefined : p.value<string | undefined>('ingress.className', ing.className, dns1123Subdomain(), undefined);
  const annotations = annotationMap(p, 'ingress.annotations', ing.annotations);
  const rules: Array<{ host: string; paths: Array<{ path: string; pathType: string }> }> = [];
  const tls: Array<{ hosts: string[]; secretName: string }> = [];

  if (ing.host !== undefined || ing.hosts === undefined) {
    // The shorthand: one host, one Prefix path.
    for (const k of ['hosts', 'tls'] as const) {
      if (ing[k] !== undefined) p.add(`ingress.${k}`, ing[k], `cannot be combined with the shorthand ingress.host; list the host in ingress.hosts instead`);
    }
    const host = hostRule(p, 'ingress.host', ing.host);
    const path = pathRule(p, 'ingress.path', ing.path ?? '/', 'Prefix');
    const secretName = ing.tlsSecretName === undefined ? undefined : p.value<string | undefined>('ingress.tlsSecretName', ing.tlsSecretName, dns1123Subdomain(), undefined);
    if (host && path) rules.push({ host, paths: [{ path, pathType: 'Prefix' }] });
    if (host && secretName) tls.push({ hosts: [host], secretName });
  } else {
    for (const k of ['path', 'tlsSecretName'] as const) {
      if (ing[k] !== undefined) p.add(`ingress.${k}`, ing[k], `belongs to the shorthand ingress.host; with ingress.hosts set ${k === 'path' ? 'hosts[].paths' : 'ingress.tls'}`);
    }
    const hosts = ing.hosts;
    if (!Array.isArray(hosts) || hosts.length === 0) {
      p.add('ingress.hosts', hosts, 'must be a non-empty list of { host, paths }', !Array.isArray(hosts));
    } else {
      hosts.forEach((h: unknown, i) => {
        const at = `ingress.hosts[${i}]`;
        if (!isRecord(h)) return p.add(at, h, 'must be { host, paths }', true);
        const host = hostRule(p, `${at}.host`, h.host);
        const paths = resolvePaths(p, at, h.paths);
        if (host && paths) rules.push({ host, paths });
        return undefined;
      });
      for (const dup of duplicates(rules.map((r) => r.host))) p.add('ingress.hosts', dup, 'hosts must be unique; list every path of a host under it');
    }
    if (ing.tls !== undefined) resolveTls(p, ing.tls, rules.map((r) => r.host), tls);
  }
  if (p.errors.length > errors || rules.length === 0) return undefined;
  return { ...(className ? { className } : {}), annotations, rules, tls };
}

function resolvePaths(p: Problems, at: string, value: unknown): Array<{ path: string; pathType: string }> | undefined {
  if (value === undefined) return [{ path: '/', pathType: 'Prefix' }];
  if (!Array.isArray(value) || value.length === 0) {
    p.add(`${at}.paths`, value, 'must be a non-empty list of { path, pathType }', !Array.isArray(value));
    return undefined;
  }
  const out: Array<{ path: string; pathType: string }> = [];
  value.forEach((x: unknown, j) => {
    const pat = `${at}.paths[${j}]`;
    if (!isRecord(x)) return p.add(pat, x, 'must be { path, pathType }', true);
    const pathType = x.pathType ?? 'Prefix';
    if (typeof pathType !== 'string' || !PATH_TYPES.includes(pathType)) {
      return p.add(`${pat}.pathType`, pathType, `must be one of ${PATH_TYPES.join(', ')}`, typeof pathType !== 'string');
    }
    const path = pathRule(p, `${pat}.path`, x.path ?? '/', pathType);
    if (path) out.push({ path, pathType });
    return undefined;
  });
  for (const dup of duplicates(out.map((x) => `${x.pathType} ${x.path}`))) p.add(`${at}.paths`, dup, 'each path and pathType once per host');
  return out.length === value.length ? out : undefined;
}

function resolveTls(p: Problems, value: unknown, ruleHosts: readonly string[], out: Array<{ hosts: string[]; secretName: string }>): void {
  if (!Array.isArray(value)) {
    p.add('ingress.tls', value, 'must be a list of { hosts, secretName }', true);
    return;
  }
  const covered: string[] = [];
  value.forEach((t: unknown, i) => {
    const at = `ingress.tls[${i}]`;
    if (!isRecord(t)) return p.add(at, t, 'must be { hosts, secretName }', true);
    const okSecret = p.check(`${at}.secretName`, t.secretName, dns1123Subdomain());
    if (!Array.isArray(t.hosts) || t.hosts.length === 0) return p.add(`${at}.hosts`, t.hosts, 'must be a non-empty list of hosts from ingress.hosts', !Array.isArray(t.hosts));
    const hosts = (t.hosts as unknown[]).filter((h, j) => {
      if (typeof h === 'string' && ruleHosts.includes(h)) return true;
      p.add(`${at}.hosts[${j}]`, h, `must be one of the Ingress hosts (${ruleHosts.join(', ') || 'none valid'}): a certificate for a host without a rule serves nothing`, typeof h !== 'string');
      return false;
    }) as string[];
    covered.push(...hosts);
    if (okSecret && hosts.length === t.hosts.length) out.push({ hosts, secretName: t.secretName as string });
    return undefined;
  });
  for (const dup of duplicates(covered)) p.add('ingress.tls', dup, 'names a host in two certificates; each host once');
}

/** The networking.k8s.io/v1 Ingress routing every rule to the Service's `http` port. */
export function createIngress(scope: Construct, name: string, labels: Record<string, string>, ing: ResolvedIngress): k8s.KubeIngress {
  const backend = { service: { name, port: { name: 'http' } } };
  return new k8s.KubeIngress(scope, 'ingress', {
    metadata: { name, labels, ...(Object.keys(ing.annotations).length ? { annotations: ing.annotations } : {}) },
    spec: {
      ...(ing.className ? { ingressClassName: ing.className } : {}),
      ...(ing.tls.length ? { tls: ing.tls.map((t) => ({ hosts: [...t.hosts], secretName: t.secretName })) } : {}),
      rules: ing.rules.map((r) => ({ host: r.host, http: { paths: r.paths.map((x) => ({ path: x.path, pathType: x.pathType, backend })) } })),
    },
  });
}
