import type { Construct } from 'constructs';
import type { SecretKeyRef } from '../connections';
import { Problems } from '../core/problems';
import { RPC } from '../defaults';
import { ValidationError } from '../errors';
import { checkInteger, checkObjectName } from '../validate';
import { URL_FILES_DIR, checkWrites, urlFileName } from './engine';
import type { ResolvedRpcUpstream, RpcEngine, RpcPoolProps, RpcUpstreamProps } from './rpc-pool';

/** The upstreams of an RpcPool: names, weights, URLs in plain sight or from Secrets, and the writes flag. */

export const NODE_UPSTREAM = 'self-hosted';
export const MAX_UPSTREAMS = 16;

/** Characters the entrypoint accepts in a URL: nothing nginx would parse (quotes, `$`, braces, spaces, `#`). */
const URL_CHARS = /^[\]A-Za-z0-9._~:/?@!&()*+,;=%[-]+$/;
const HOST = /^(([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;
/** A path segment or host label that looks like an API key (Infura, Alchemy, QuickNode, Ankr use 32–64 characters). */
const KEY_LIKE_SEGMENT = /^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_-]{20,}$/;
const UPSTREAM_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/**
 * Every upstream, each check on its own (a mistake in one does not hide one in another): fills `env` (names, weights,
 * plain URLs, URL file paths) and `secretEnv` (Secret-held URLs by env name).
 */
export function resolveUpstreams(
  p: Problems, scope: Construct, props: RpcPoolProps, env: Record<string, string>, secretEnv: Record<string, SecretKeyRef>, engine: RpcEngine,
): ResolvedRpcUpstream[] {
  if (!Array.isArray(props.upstreams)) {
    p.add('upstreams', props.upstreams, 'must be a list of upstreams', true);
    return [];
  }
  if (props.upstreams.length > MAX_UPSTREAMS) {
    p.add('upstreams', props.upstreams.length, `must hold at most ${MAX_UPSTREAMS} upstreams`);
    return [];
  }
  const names = new Set<string>(props.selfHostedNode ? [NODE_UPSTREAM] : []);
  const sources = new Set<string>();
  return props.upstreams.map((given, index) => {
    const at = `upstreams[${index}]`;
    const i = index + 1;
    if (given === null || typeof given !== 'object') p.add(at, given, 'must be an upstream { name, url | urlSecret, wsUrl | wsUrlSecret, weight, writes }', true);
    const u: RpcUpstreamProps = given !== null && typeof given === 'object' ? given : {};
    const name = u.name ?? `upstream-${i}`;
    if (typeof name !== 'string' || !UPSTREAM_NAME.test(name)) {
      p.add(`${at}.name`, name, 'must be 1–32 lower-case letters, digits and "-", starting and ending alphanumeric', typeof name !== 'string');
    } else if (names.has(name)) {
      p.add(`${at}.name`, name, name === NODE_UPSTREAM && props.selfHostedNode ? `is reserved for selfHostedNode` : 'must be unique in the pool');
    }
    names.add(name);
    const weight = p.run(() => checkInteger(scope, `${at}.weight`, u.weight ?? RPC.weight, { min: 1, max: 100 }), RPC.weight);
    env[`RPC_UPSTREAM_${i}_NAME`] = name;
    env[`RPC_UPSTREAM_${i}_WEIGHT`] = String(weight);

    const http = p.run(() => urlSource(scope, at, 'url', 'urlSecret', u.url, u.urlSecret, 'http', true), undefined);
    const ws = p.run(() => urlSource(scope, at, 'wsUrl', 'wsUrlSecret', u.wsUrl, u.wsUrlSecret, 'ws', false), undefined);
    for (const [suffix, source] of [['URL', http], ['WS_URL', ws]] as const) {
      if (!source) continue;
      if (sources.has(source.key)) p.add(`${at}.${source.property}`, source.shown, 'is already used by another upstream');
      sources.add(source.key);
      // Keyed URLs reach the proxy as files of a projected Secret volume, never as env values (issue 18).
      if (source.secret) {
        secretEnv[`RPC_UPSTREAM_${i}_${suffix}`] = source.secret;
        env[`RPC_UPSTREAM_${i}_${suffix}_FILE`] = `${URL_FILES_DIR}/${urlFileName(i, suffix)}`;
      }
      else env[`RPC_UPSTREAM_${i}_${suffix}`] = source.url!;
    }
    const writes = p.run(() => checkWrites(scope, `${at}.writes`, u.writes, engine), true);
    if (!writes) env[`RPC_UPSTREAM_${i}_WRITES`] = 'false';
    return { name: String(name), weight, source: http?.secret ? 'secret' : 'url', webSocket: ws !== undefined, writes };
  });
}

interface UrlSource {
  readonly property: string;
  readonly url?: string;
  readonly secret?: SecretKeyRef;
  /** Identity for duplicate checks. */
  readonly key: string;
  /** What an error message may show. */
  readonly shown: unknown;
}

function urlSource(
  scope: Construct, at: string, urlProp: string, secretProp: string, url: string | undefined,
  secret: SecretKeyRef | undefined, kind: 'http' | 'ws', required: boolean,
): UrlSource | undefined {
  if (url !== undefined && secret !== undefined) {
    throw new ValidationError(scope, `${at}.${urlProp}`, redact(url), `give either ${urlProp} or ${secretProp}, not both`);
  }
  if (secret !== undefined) {
    checkObjectName(scope, `${at}.${secretProp}.secretName`, secret.secretName);
    if (typeof secret.key !== 'string' || !SECRET_KEY.test(secret.key)) {
      throw new ValidationError(scope, `${at}.${secretProp}.key`, secret.key, "must be a Secret key: letters, digits, '-', '_' and '.'");
    }
    return { property: secretProp, secret: { secretName: secret.secretName, key: secret.key }, key: `secret:${secret.secretName}/${secret.key}`, shown: secret };
  }
  if (url === undefined) {
    if (required) throw new ValidationError(scope, `${at}.${urlProp}`, undefined, `is required: give ${urlProp}, or ${secretProp} when the URL holds an API key`);
    return undefined;
  }
  const parsed = checkPlainUrl(scope, `${at}.${urlProp}`, url, kind, secretProp);
  return { property: urlProp, url, key: parsed.href, shown: redact(url) };
}

/**
 * A URL given in plain sight: well-formed, the right scheme, and nothing that looks like a credential (those go
 * through a Secret). Error messages show the URL with anything key-like replaced by `<redacted>`.
 */
function checkPlainUrl(scope: Construct, property: string, value: string, kind: 'http' | 'ws', secretProp: string): URL {
  const schemes = kind === 'http' ? ['http:', 'https:'] : ['ws:', 'wss:'];
  const allowed = `must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL`;
  const useSecret = `: store the URL in a Secret and pass ${secretProp}`;
  if (typeof value !== 'string' || !URL_CHARS.test(value)) {
    throw new ValidationError(scope, property, typeof value === 'string' ? redact(value) : value, `${allowed} without spaces, quotes, '$', '#', '{' or '}'`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(scope, property, redact(value), `${allowed}; this one does not parse`);
  }
  if (!schemes.includes(url.protocol)) throw new ValidationError(scope, property, redact(value), allowed);
  if (!HOST.test(url.hostname)) throw new ValidationError(scope, property, redact(value), `${allowed} with a DNS name or IP address as host`);
  if (url.username || url.password) throw new ValidationError(scope, property, redact(value), `must not embed user:password${useSecret}`);
  if (url.search) throw new ValidationError(scope, property, redact(value), `must not carry a query string, where providers put API keys${useSecret}`);
  if (url.pathname.split('/').some((s) => KEY_LIKE_SEGMENT.test(s)) || url.hostname.split('.').some((s) => KEY_LIKE_SEGMENT.test(s))) {
    throw new ValidationError(scope, property, redact(value), `has a path segment or host label that looks like an API key${useSecret}`);
  }
  return url;
}

/** The URL with user:password, query and key-like path segments replaced, for error messages and logs. */
export function redact(value: string): string {
  if (typeof value !== 'string') return value;
  try {
    const url = new URL(value);
    const hide = (s: string): string => (KEY_LIKE_SEGMENT.test(s) ? '<redacted>' : s);
    const path = url.pathname.split('/').map(hide).join('/');
    const host = url.hostname.split('.').map(hide).join('.') + (url.port ? `:${url.port}` : '');
    const auth = url.username || url.password ? '<redacted>@' : '';
    return `${url.protocol}//${auth}${host}${path}${url.search ? '?<redacted>' : ''}`;
  } catch {
    return '<unparsable URL, not shown>';
  }
}

