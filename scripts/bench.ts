/**
 * Synth benchmark: `npm run bench`.
 *
 * For N = 10, 100, 1000 mixed workloads, each in a fresh child process (so peak RSS is per N), it measures:
 * - construct: building our constructs;            - resolve: `chart.toJson()` over every chart;
 * - serialize: cdk8s' YAML output of the objects; - objects, bytes;
 * - peak RSS of one plain synth of N (its own child process: build, validate, resolve, YAML);
 * - hand-written: the same objects as cdk8s L1 `ApiObject`s built from their final JSON (the least a cdk8s app
 *   that writes them by hand can do), construct + resolve; checked equal to ours;
 * - floor: js-yaml dump of the final plain objects alone.
 * Then whole-process timings: `cdk8s synth` of the examples, and the Helm chart writer on one example.
 * Medians over repetitions after a warm-up.
 */
import { execFileSync, spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { cpus, tmpdir, totalmem } from 'os';
import { join } from 'path';
import { isDeepStrictEqual } from 'util';
import { ApiObject, App, Chart, Testing, Yaml } from 'cdk8s';
import * as jsYaml from 'js-yaml';
import {
  PostgresCluster, RedisHA, RpcPool, StatelessService, WorkerPool, connectPostgres, connectRedis,
} from '../lib';

const SIZES = [10, 100, 1000];
const WORKLOADS_PER_CHART = 50;

/**
 * The workload mix, one line per construct: mostly StatelessServices with varied options, workers on every 5th
 * slot, and a datastore (Postgres or Redis) per 25 workloads, an RPC pool per 100.
 */
function buildApp(n: number): App {
  const app = Testing.app();
  let chart!: Chart;
  let db: PostgresCluster | undefined;
  let cache: RedisHA | undefined;
  for (let i = 0; i < n; i++) {
    if (i % WORKLOADS_PER_CHART === 0) {
      chart = new Chart(app, `team-${i / WORKLOADS_PER_CHART}`, { namespace: `team-${i / WORKLOADS_PER_CHART}` });
      db = undefined;
      cache = undefined;
    }
    const id = `w${i}`;
    if (i % 25 === 0) {
      db = new PostgresCluster(chart, `${id}-db`, {
        credentials: { superuser: { secretName: `${id}-su` }, replication: { secretName: `${id}-repl` }, app: { secretName: `${id}-app` } },
        maxConnections: 400,
      });
    } else if (i % 25 === 12) {
      cache = new RedisHA(chart, `${id}-cache`, { passwordSecret: { secretName: `${id}-redis`, key: 'password' } });
    } else if (i % 100 === 50) {
      new RpcPool(chart, `${id}-rpc`, { upstreams: [{ name: 'a', url: 'https://rpc-a.example.com' }, { name: 'b', url: 'https://rpc-b.example.com' }] });
    } else if (i % 5 === 0) {
      const worker = new WorkerPool(chart, id, {
        image: 'ghcr.io/example/worker:1.0.0', queue: `jobs-${i}`,
        scaling: cache ? { triggers: [{ type: 'redis-streams', redis: cache.connection, stream: `jobs-${i}`, consumerGroup: 'workers' }] } : undefined,
      });
      if (cache) connectRedis(worker, cache);
    } else {
      const service = new StatelessService(chart, id, {
        image: `ghcr.io/example/svc-${i % 7}:2.${i % 10}.0`,
        env: { LOG_LEVEL: 'info', REGION: 'eu' },
        secretEnv: { API_TOKEN: { secretName: `${id}-token`, key: 'token' } },
        ...(i % 3 === 0 ? { ingress: { host: `${id}.example.com` } } : {}),
        ...(i % 4 === 0 ? { serviceMonitor: true } : {}),
        ...(i % 6 === 0 ? { autoscaling: false as const, replicas: 2 } : { autoscaling: { maxReplicas: 8 + (i % 5) } }),
        ...(i % 8 === 0 ? { configMounts: [{ configMap: `${id}-config`, mountPath: '/etc/app' }] } : {}),
      });
      if (db && i % 2 === 0) connectPostgres(service, db, { poolSize: 2, readReplicas: false });
    }
  }
  return app;
}

interface Sample {
  construct: number; resolve: number; serialize: number; handConstruct: number; handResolve: number; floor: number;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function runOnce(n: number, check: boolean): Sample & { objects: number; bytes: number } {
  let t = process.hrtime.bigint();
  const app = buildApp(n);
  const construct = ms(t);

  t = process.hrtime.bigint();
  // App.synth's validations (connection budgets) plus every chart's objects.
  for (const c of app.node.findAll()) c.node.validate();
  const perChart = app.charts.map((c) => c.toJson());
  const resolve = ms(t);

  t = process.hrtime.bigint();
  const yaml = perChart.map((objs) => Yaml.stringify(...objs));
  const serialize = ms(t);

  // Hand-written baseline: the same final objects as L1 ApiObjects.
  t = process.hrtime.bigint();
  const handApp = Testing.app();
  const handCharts = perChart.map((objs, ci) => {
    const chart = new Chart(handApp, `hand-${ci}`);
    objs.forEach((o, oi) => new ApiObject(chart, `o${oi}`, o));
    return chart;
  });
  const handConstruct = ms(t);
  t = process.hrtime.bigint();
  const handJson = handCharts.map((c) => c.toJson());
  const handResolve = ms(t);
  if (check && !isDeepStrictEqual(handJson, perChart)) throw new Error('hand-written objects differ from ours');

  t = process.hrtime.bigint();
  for (const objs of perChart) for (const o of objs) jsYaml.dump(o, { noRefs: true });
  const floor = ms(t);

  return {
    construct, resolve, serialize, handConstruct, handResolve, floor,
    objects: perChart.reduce((a, o) => a + o.length, 0),
    bytes: yaml.reduce((a, y) => a + Buffer.byteLength(y), 0),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Child mode: measure one N and print one JSON line. */
function one(n: number): void {
  const reps = n >= 1000 ? 3 : n >= 100 ? 5 : 15;
  runOnce(n, true); // warm-up, and the equality check
  const samples = Array.from({ length: reps }, () => runOnce(n, false));
  const last = samples[samples.length - 1];
  const pick = (k: keyof Sample) => median(samples.map((s) => s[k]));
  process.stdout.write(`${JSON.stringify({
    n, reps, objects: last.objects, bytes: last.bytes,
    construct: pick('construct'), resolve: pick('resolve'), serialize: pick('serialize'),
    handConstruct: pick('handConstruct'), handResolve: pick('handResolve'), floor: pick('floor'),
  })}\n`);
}

/** Child mode: one synth of N workloads (build, validate, resolve, YAML) and nothing else, for its peak RSS. */
function rss(n: number): void {
  const app = buildApp(n);
  for (const c of app.node.findAll()) c.node.validate();
  let bytes = 0;
  for (const chart of app.charts) bytes += Yaml.stringify(...chart.toJson()).length;
  process.stdout.write(`${JSON.stringify({ n, bytes, rssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
}

function timeProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, runs = 3): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: 'pipe' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    times.push(ms(t));
  }
  return median(times);
}

function main(): void {
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${f(totalmem() / 2 ** 30, 0)} GiB, node ${process.version}\n`);
  console.log('| N | objects | YAML | construct ms | resolve ms | serialize ms | total ms | per workload ms | hand-written ms | ours/hand | total/floor | peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const n of SIZES) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--one', String(n)], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    const rssOut = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--rss', String(n)], { encoding: 'utf8' });
    r.rssMB = JSON.parse(rssOut.trim().split('\n').pop()!).rssMB;
    const ours = r.construct + r.resolve;
    const hand = r.handConstruct + r.handResolve;
    const total = ours + r.serialize;
    console.log(`| ${n} | ${r.objects} | ${f(r.bytes / 2 ** 20, 2)} MiB | ${f(r.construct)} | ${f(r.resolve)} | ${f(r.serialize)} | ${f(total)} | ${f(total / n, 2)} | ${f(hand)} | ${f(ours / hand, 2)} | ${f(total / r.floor, 2)} | ${f(r.rssMB, 0)} |`);
  }
  console.log('\nours/hand: our construct + resolve over the same objects built as L1 ApiObjects; total/floor: construct + resolve +');
  console.log('cdk8s YAML over a js-yaml dump of the final objects alone.\n');

  const tsx = join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const out = mkdtempSync(join(tmpdir(), 'bench-'));
  try {
    const synth = timeProcess(tsx, [join(__dirname, '..', 'examples', 'main.ts')], { CDK8S_OUTDIR: join(out, 'dist') });
    const chart = timeProcess(tsx, [join(__dirname, 'chart.ts'), join(__dirname, '..', 'examples', 'ida.ts'), join(out, 'chart')], {});
    console.log(`whole process, median of 3: synth of all examples ${f(synth, 0)} ms; Helm chart writer on examples/ida.ts ${f(chart, 0)} ms`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const oneIndex = process.argv.indexOf('--one');
const rssIndex = process.argv.indexOf('--rss');
if (oneIndex >= 0) one(Number(process.argv[oneIndex + 1]));
else if (rssIndex >= 0) rss(Number(process.argv[rssIndex + 1]));
else main();
