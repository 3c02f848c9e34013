import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import type { SecretKeyRef } from '../connections';
import { RPC } from '../defaults';
import { ValidationError } from '../errors';
import type { RpcEngine } from './rpc-pool';

const ENGINES: readonly RpcEngine[] = ['njs', 'nginx'];

/** The pool's engine: `njs` (JSON-RPC-aware, default) or `nginx` (HTTP status only). */
export function checkEngine(scope: Construct, given: unknown): RpcEngine {
  const engine = given ?? RPC.engine;
  if (!ENGINES.includes(engine as RpcEngine)) {
    throw new ValidationError(scope, 'engine', engine, `must be one of ${ENGINES.map((e) => `'${e}'`).join(', ')}`);
  }
  return engine as RpcEngine;
}

/** An upstream's `writes` flag; routing writes by method needs the njs engine. */
export function checkWrites(scope: Construct, property: string, given: unknown, engine: RpcEngine): boolean {
  if (given === undefined) return true;
  if (typeof given !== 'boolean') throw new ValidationError(scope, property, given, 'must be true or false');
  if (!given && engine !== 'njs') throw new ValidationError(scope, property, given, "needs engine: 'njs' (the nginx engine routes every method alike)");
  return given;
}

/** Where the proxy container finds the Secret-held upstream URLs, one file each. */
export const URL_FILES_DIR = '/etc/rpc-urls';
const URL_FILES_VOLUME = 'rpc-urls';

/** File name of upstream `index`'s URL (`suffix` URL or WS_URL) under {@link URL_FILES_DIR}. */
export function urlFileName(index: number, suffix: 'URL' | 'WS_URL'): string {
  return `upstream-${index}-${suffix === 'URL' ? 'http' : 'ws'}`;
}

/**
 * Mounts the Secret keys of `byEnv` (env name → Secret key, the env name ending in URL or WS_URL) into the proxy
 * container as one projected volume at {@link URL_FILES_DIR}, readable by the pod's fsGroup only (0440). The
 * entrypoint reads RPC_UPSTREAM_<i>_URL_FILE; the URL never becomes an env value.
 */
export function mountUrlFiles(deployment: ApiObject, byEnv: Record<string, SecretKeyRef>): void {
  const entries = Object.entries(byEnv);
  if (entries.length === 0) return;
  const sources = entries.map(([name, ref]) => {
    const m = /^RPC_UPSTREAM_([0-9]+)_(URL|WS_URL)$/.exec(name)!;
    return { secret: { name: ref.secretName, items: [{ key: ref.key, path: urlFileName(Number(m[1]), m[2] as 'URL' | 'WS_URL') }] } };
  });
  deployment.addJsonPatch(
    JsonPatch.add('/spec/template/spec/volumes/-', { name: URL_FILES_VOLUME, projected: { defaultMode: 0o440, sources } }),
    // The app container is the first one (sidecars follow it).
    JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', { name: URL_FILES_VOLUME, mountPath: URL_FILES_DIR, readOnly: true }),
  );
}
