/**
 * Fresh consumer projects outside the repo, installed with `npm ci --offline` from the packed tarball: no network.
 *
 * `npm install --offline` cannot resolve versions here (it wants full packuments, and `npm ci` of this repo caches
 * only abbreviated ones), so each project gets a package-lock.json cut from this repo's: every package a consumer
 * needs is one this repo's `npm ci` already installed (the lowest supported peers as npm aliases such as
 * `cdk8s-lowest`, ts-node, cdk8s-cli), at the same place in the tree, with the same resolved URL and integrity. npm
 * then only extracts tarballs from its cache.
 */
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

export const REPO = path.resolve(__dirname, '..', '..');
export const run = promisify(execFile);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LockEntry = Record<string, any>;
interface Lock {
  packages: Record<string, LockEntry>;
}

let repoLock: Lock | undefined;
const lock = (): Lock => (repoLock ??= JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as Lock);

/** A dependency of a consumer: a package this repo has installed (`repoName`, e.g. `cdk8s-lowest`), or a tarball. */
export type Dependency = { repoName: string } | { tarball: string };

/** Where node would find `dep` from the package at `from` ('' is the root), in the repo's tree. */
function resolveInRepo(from: string, dep: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${dep}`;
    if (lock().packages[candidate]) return candidate;
    if (!dir) return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

/** The package-lock.json of a project with these dependencies (all as `dependencies`). */
export function consumerLock(name: string, deps: Record<string, Dependency>, projectDir: string): { packageJsonDeps: Record<string, string>; lock: object } {
  const packages: Record<string, LockEntry> = {};
  const source = new Map<string, string>(); // consumer path → repo path, to catch two packages wanting one place
  const renames: Array<[string, string]> = []; // repo path prefix → consumer path prefix (aliases)
  const toConsumer = (repoPath: string): string => {
    for (const [from, to] of renames) if (repoPath === from || repoPath.startsWith(`${from}/`)) return to + repoPath.slice(from.length);
    return repoPath;
  };
  const rootNames = new Set(Object.keys(deps));
  const pending: Array<{ repoPath: string; consumerPath: string }> = [];

  const addDependenciesOf = (entry: LockEntry, repoPath: string): void => {
    const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, m]) => (m as LockEntry).optional).map(([k]) => k));
    const wanted = [
      ...Object.keys(entry.dependencies ?? {}),
      // All platforms' optional packages (esbuild's): `npm ci` wants them in the lock, and skips the foreign ones.
      ...Object.keys(entry.optionalDependencies ?? {}),
      // A peer the consumer declares itself is satisfied by the consumer's copy: that is the point of peers.
      ...Object.keys(entry.peerDependencies ?? {}).filter((p) => !optionalPeers.has(p) && !rootNames.has(p)),
    ];
    for (const dep of new Set(wanted)) {
      if (rootNames.has(dep) && !(entry.dependencies ?? {})[dep]) continue;
      const found = resolveInRepo(repoPath, dep);
      if (!found) {
        if ((entry.optionalDependencies ?? {})[dep]) continue;
        throw new Error(`consumer lock: ${repoPath || 'root'} needs ${dep}, not installed in the repo`);
      }
      pending.push({ repoPath: found, consumerPath: toConsumer(found) });
    }
  };

  const packageJsonDeps: Record<string, string> = {};
  for (const [dep, spec] of Object.entries(deps)) {
    if ('tarball' in spec) {
      const rel = path.relative(projectDir, spec.tarball);
      const manifest = tarballManifest(spec.tarball);
      packageJsonDeps[dep] = `file:${rel}`;
      packages[`node_modules/${dep}`] = {
        version: manifest.version,
        resolved: `file:${rel}`,
        integrity: `sha512-${createHash('sha512').update(fs.readFileSync(spec.tarball)).digest('base64')}`,
        ...pick(manifest, ['dependencies', 'peerDependencies', 'bin', 'engines', 'license']),
      };
      addDependenciesOf(manifest, '');
    } else {
      const repoPath = `node_modules/${spec.repoName}`;
      const entry = lock().packages[repoPath];
      if (!entry) throw new Error(`consumer lock: ${spec.repoName} is not in the repo's package-lock.json (add it to devDependencies)`);
      if (spec.repoName !== dep) renames.push([repoPath, `node_modules/${dep}`]);
      packageJsonDeps[dep] = entry.version as string;
      pending.push({ repoPath, consumerPath: `node_modules/${dep}` });
    }
  }

  while (pending.length > 0) {
    const { repoPath, consumerPath } = pending.shift()!;
    const known = source.get(consumerPath);
    if (known === repoPath) continue;
    if (known !== undefined) throw new Error(`consumer lock: ${consumerPath} wanted from both ${known} and ${repoPath}`);
    source.set(consumerPath, repoPath);
    const { dev: _d, peer: _p, devOptional: _o, name: alias, ...entry } = lock().packages[repoPath]!;
    const realName = consumerPath.slice(consumerPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const packageName = (alias as string | undefined) ?? repoPath.slice(repoPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
    // This repo's lockfile records no `resolved` URLs; without one npm would ask the registry. The registry's tarball
    // URL lets npm find the tarball in its cache by integrity.
    if (!entry.inBundle && !entry.resolved) entry.resolved = registryTarball(packageName, entry.version as string);
    packages[consumerPath] = alias && alias !== realName ? { name: alias, ...entry } : entry;
    addDependenciesOf(entry, repoPath);
  }

  return {
    packageJsonDeps,
    lock: {
      name,
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name, version: '1.0.0', dependencies: packageJsonDeps }, ...packages },
    },
  };
}

function registryTarball(name: string, version: string): string {
  return `https://registry.npmjs.org/${name}/-/${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`;
}

function pick(o: LockEntry, keys: string[]): LockEntry {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

/** package.json inside a .tgz (first entry `package/package.json`), read with the system tar. */
const manifests = new Map<string, LockEntry>();
function tarballManifest(tarball: string): LockEntry {
  let m = manifests.get(tarball);
  if (!m) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sc-tgz-'));
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('child_process').execFileSync('tar', ['-xzf', tarball, '-C', dir, 'package/package.json']);
      m = JSON.parse(fs.readFileSync(path.join(dir, 'package', 'package.json'), 'utf8')) as LockEntry;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    manifests.set(tarball, m);
  }
  return m;
}

/** Root of this run's consumer projects, outside the repo. */
export function consumerRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'scalecharts-consumers-'));
}

/** Writes a project (package.json with `extra` merged in, lockfile, files) and installs it offline. */
export async function createProject(
  root: string,
  name: string,
  deps: Record<string, Dependency>,
  files: Record<string, string>,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const { packageJsonDeps, lock: lockfile } = consumerLock(name, deps, dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, license: 'UNLICENSED', dependencies: packageJsonDeps, ...extra }, null, 2));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lockfile, null, 2));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: dir, env: cleanEnv() });
  return dir;
}

/** The environment for commands in a consumer project: without npm's variables from the `npm test` around us. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'NODE_OPTIONS' && k !== 'INIT_CWD'));
  return { ...env, ...extra };
}

/** `npm pack` of a package directory into `dest`; returns the tarball path. Runs the package's prepack (its build). */
export async function pack(packageDir: string, dest: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dest, '--loglevel=error'], { cwd: packageDir, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; unpackedSize: number; files: Array<{ path: string; size: number }> }>;
  return path.join(dest, info!.filename);
}
