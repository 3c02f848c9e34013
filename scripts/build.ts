/**
 * Builds the published package into build/ (run by `npm run build` and on `npm pack` / `npm publish` via prepack):
 *
 * 1. `tsc -p tsconfig.build.json` twice: lib/**\/*.ts → build/ as CommonJS without comments, then the .d.ts files with
 *    their TSDoc (no source maps: they would double the package size for little gain over uncommented JS);
 * 2. every non-TypeScript file under lib/ (config templates and scripts the constructs read at synth, by pattern, so
 *    new ones are picked up without a list) copied beside its compiled module, modes kept;
 * 3. the strict schemas (scripts/gen-schemas.ts, from the Go module proxy on a cold cache) written as one deduplicated
 *    bundle, build/schemas.json, which `scalecharts check` reads; nothing is fetched at run time.
 *
 * Usage: npx tsx scripts/build.ts
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { generateSchemas, MANIFEST_FILE, SCHEMA_DIR } from './gen-schemas';
import { SCHEMA_BUNDLE_FILE, type SchemaBundle, type SchemaManifest } from '../lib/check/schema';

const ROOT = path.resolve(__dirname, '..');
const LIB = path.join(ROOT, 'lib');
const BUILD = path.join(ROOT, 'build');

/** Files under lib/ that are not TypeScript sources, relative to lib/. */
export function assetFiles(dir = LIB, base = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(base, e.name);
    if (e.isDirectory()) return assetFiles(path.join(dir, e.name), rel);
    return /\.[cm]?tsx?$/.test(e.name) ? [] : [rel];
  });
}

function copyAssets(): number {
  const files = assetFiles();
  for (const rel of files) {
    const target = path.join(BUILD, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(LIB, rel), target);
    fs.chmodSync(target, fs.statSync(path.join(LIB, rel)).mode & 0o777);
  }
  return files.length;
}

/**
 * Our declarations use only cdk8s-plus-28's generated L1 module (`k8s`), but importing it from the package root pulls
 * every L2 declaration into the consumer's program, and those do not compile under `exactOptionalPropertyTypes` with
 * `skipLibCheck: false`. The same module, imported by its own path, does; the types are identical (the root
 * re-exports it as `k8s`). Any other import from cdk8s-plus-28 is left alone and would show in the strict consumer test.
 */
function narrowPlusImports(): number {
  let count = 0;
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.d.ts')) {
        const text = fs.readFileSync(full, 'utf8');
        const narrowed = text.replace(/^import (type )?\{ k8s \} from 'cdk8s-plus-28';$/gm, "import $1* as k8s from 'cdk8s-plus-28/lib/imports/k8s';");
        if (narrowed !== text) {
          fs.writeFileSync(full, narrowed);
          count++;
        }
      }
    }
  };
  walk(BUILD);
  return count;
}

/** One JSON: each definition once, each kind's root without `definitions`. Fails if two files disagree on one. */
function writeSchemaBundle(manifest: SchemaManifest): { kinds: number; bytes: number } {
  const definitions: Record<string, Record<string, unknown>> = {};
  const kinds: Record<string, Record<string, Record<string, unknown>>> = {};
  let count = 0;
  for (const [apiVersion, byKind] of Object.entries(manifest.schemas)) {
    for (const [kind, file] of Object.entries(byKind)) {
      const { definitions: defs = {}, ...root } = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, file), 'utf8'));
      for (const [name, schema] of Object.entries(defs as Record<string, Record<string, unknown>>)) {
        const text = JSON.stringify(schema);
        if (name in definitions && JSON.stringify(definitions[name]) !== text) {
          throw new Error(`build: schema definition ${name} differs between kinds; the bundle cannot share it`);
        }
        definitions[name] = schema;
      }
      (kinds[apiVersion] ??= {})[kind] = root;
      count++;
    }
  }
  const bundle: SchemaBundle = { format: 1, generatedAt: manifest.generatedAt, modules: manifest.modules, definitions, kinds };
  const text = JSON.stringify(bundle);
  fs.writeFileSync(path.join(BUILD, SCHEMA_BUNDLE_FILE), text);
  return { kinds: count, bytes: Buffer.byteLength(text) };
}

async function main(): Promise<void> {
  const started = Date.now();
  fs.rmSync(BUILD, { recursive: true, force: true });
  const tsc = (...args: string[]) =>
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), ...args], { stdio: 'inherit' });
  tsc();
  tsc('--declaration', '--emitDeclarationOnly', '--removeComments', 'false');
  const narrowed = narrowPlusImports();
  const assets = copyAssets();
  await generateSchemas();
  const manifest = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, MANIFEST_FILE), 'utf8')) as SchemaManifest;
  const bundle = writeSchemaBundle(manifest);
  console.log(`build: build/ written in ${Date.now() - started} ms: ${narrowed} .d.ts narrowed to cdk8s-plus-28's k8s module, ${assets} asset files, schema bundle ${bundle.kinds} kinds, ${(bundle.bytes / 1024).toFixed(0)} kB`);
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(e.message);
    process.exitCode = 1;
  });
}
