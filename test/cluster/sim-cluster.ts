/**
 * A simulated Kubernetes cluster on loopback, built on the control-plane harness (etcd + kube-apiserver,
 * test/harness/control-plane.ts, RBAC mode): the real kube-controller-manager and kube-scheduler, kwok playing the
 * kubelets of 9 fake nodes in 3 zones (pods move through kwok's "general" stages: created, running, Ready, Job pods
 * complete), a default zonal StorageClass and a provisioning loop that pins each volume to the zone the scheduler
 * picked, as cloud disks are pinned. No containers run: kwok marks every scheduled pod Ready, so probes, images,
 * Secrets at runtime and traffic are out of scope (those are the real-process tests' job).
 *
 * ```ts
 * const sim = await startSimCluster();
 * const r = await sim.helm(['install', 'r1', chartDir, '-n', 'shop', '--wait']);
 * await sim.stop();
 * ```
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ApiResponse, ControlPlane, kubeToolsPath, startControlPlane } from '../harness/control-plane';
import type { HelmResult } from '../harness/helm';
import { runHelmWithKubeconfig } from '../harness/helm-cluster';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** The made-up provisioner of the default StorageClass; the loop below plays its part. */
export const PROVISIONER = 'sim.scalecharts.dev/zonal-disk';
const KWOK_VERSION = 'v0.7.0';
const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export interface SimNode {
  readonly name: string;
  readonly zone: string;
}

export interface SimClusterOptions {
  /** Zones and nodes per zone. @default zone-a, zone-b, zone-c with 3 nodes each */
  readonly zones?: readonly string[];
  readonly nodesPerZone?: number;
  /** Extra labels on every node (a preset's `nodeSelector`: the pool its pods must land on). @default {} */
  readonly nodeLabels?: Readonly<Record<string, string>>;
  /**
   * Allocatable per node. Fake, so sized for many releases at once (the datastores ask 4 vCPU / 16 GiB per member).
   * @default 64 cpu, 256Gi, 250 pods, 500Gi ephemeral storage (the pods request theirs)
   */
  readonly nodeCapacity?: { readonly cpu: string; readonly memory: string; readonly pods: string; readonly 'ephemeral-storage': string };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

export interface SimCluster {
  readonly cp: ControlPlane;
  readonly nodes: readonly SimNode[];
  /** Admin kubeconfig (helm, kwok). */
  readonly kubeconfig: string;
  /** Milliseconds from the call until nodes were Ready. */
  readonly startupMs: number;
  /** The real helm against this cluster. */
  helm(args: readonly string[]): Promise<HelmResult>;
  /** A request as admin that must succeed (2xx), with the body. */
  api(method: string, apiPath: string, body?: unknown, query?: Record<string, string>): Promise<Obj>;
  /** `items` of a list. */
  list(apiPath: string, query?: Record<string, string>): Promise<Obj[]>;
  /** Marks a node unschedulable (or schedulable again). */
  cordon(node: string, unschedulable?: boolean): Promise<void>;
  /** Evicts a pod through the Eviction API: 201 allowed, 429 refused by a PodDisruptionBudget. */
  evict(namespace: string, pod: string): Promise<ApiResponse>;
  /** Volumes the provisioning loop created: PV name → zone. */
  readonly volumes: ReadonlyMap<string, string>;
  /** Tail of a component's log (`kube-controller-manager`, `kube-scheduler`, `kwok`). */
  log(component: string, lines?: number): string;
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** kwok's general pod stages, read from the kwok module source in the Go module cache (not copied into the repo). */
export function kwokPodStageFiles(): string[] {
  const out = execFileSync('go', ['mod', 'download', '-json', `sigs.k8s.io/kwok@${KWOK_VERSION}`], { encoding: 'utf8', cwd: fs.mkdtempSync('/tmp/kwok-mod-') });
  const dir = path.join(JSON.parse(out).Dir, 'kustomize', 'stage', 'pod', 'general');
  const kustomization = fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8');
  const files = [...kustomization.matchAll(/^- (\S+\.yaml)$/gm)].map((m) => path.join(dir, m[1]));
  if (files.length === 0) throw new Error(`no pod stages listed in ${dir}/kustomization.yaml`);
  return files;
}

function startProcess(bin: string, args: string[], logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  const p = spawn(bin, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  return p;
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** Starts the control plane, controllers, scheduler, kwok and the nodes; resolves when every node is Ready. */
export async function startSimCluster(opts: SimClusterOptions = {}): Promise<SimCluster> {
  const started = Date.now();
  const cp = await startControlPlane({
    authorization: 'RBAC',
    users: [{ name: 'system:kube-controller-manager' }, { name: 'system:kube-scheduler' }],
  });
  const procs: ChildProcess[] = [];
  const logs = new Map<string, string>();
  let provisioning = true;
  let loop: Promise<void> = Promise.resolve();
  const stop = async () => {
    provisioning = false;
    await loop;
    for (const p of [...procs].reverse()) await stopProcess(p);
    await cp.stop();
  };
  try {
    const admin = cp.kubeconfig('admin');
    const run = (name: string, args: string[]) => {
      const log = path.join(cp.dir, `${name}.log`);
      logs.set(name, log);
      const p = startProcess(kubeToolsPath(name), args, log);
      procs.push(p);
      // The control-plane watchdog only knows etcd and the API server: these die with the test process too, on a
      // normal exit and (through a detached shell watching this process) when the worker is killed.
      process.once('exit', () => p.kill('SIGKILL'));
      spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${p.pid} 2>/dev/null; do sleep 2; done; kill -9 ${p.pid} 2>/dev/null`],
        { detached: true, stdio: 'ignore' }).unref();
      return p;
    };
    const kcm = cp.kubeconfig('system:kube-controller-manager');
    run('kube-controller-manager', [
      `--kubeconfig=${kcm}`, `--authentication-kubeconfig=${kcm}`, `--authorization-kubeconfig=${kcm}`,
      '--controllers=*', '--use-service-account-credentials=true',
      `--service-account-private-key-file=${cp.serviceAccountKeyFile}`, `--root-ca-file=${cp.caFile}`,
      '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0',
      // The HPA and the disruption controller react within seconds, as on a real cluster.
      '--horizontal-pod-autoscaler-sync-period=5s', '--v=1',
    ]);
    const sched = cp.kubeconfig('system:kube-scheduler');
    run('kube-scheduler', [
      `--kubeconfig=${sched}`, `--authentication-kubeconfig=${sched}`, `--authorization-kubeconfig=${sched}`,
      '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0', '--v=1',
    ]);
    run('kwok', [
      `--kubeconfig=${admin}`, `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      // Addresses only recorded in the API, never contacted.
      '--cidr=10.244.0.1/16', '--node-ip=10.240.0.1', '--node-lease-duration-seconds=40',
      ...kwokPodStageFiles().map((f) => `--config=${f}`),
    ]);

    const request = async (method: string, apiPath: string, body?: unknown, query?: Record<string, string>): Promise<Obj> => {
      const r = await cp.request(method, apiPath, body, { query, ...(method === 'PATCH' ? { contentType: 'application/merge-patch+json' } : {}) });
      if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${apiPath}: HTTP ${r.status} ${r.body?.message ?? JSON.stringify(r.body)}`);
      return r.body;
    };
    const list = async (apiPath: string, query?: Record<string, string>) => (await request('GET', apiPath, undefined, query)).items as Obj[];

    const zones = opts.zones ?? ['zone-a', 'zone-b', 'zone-c'];
    const perZone = opts.nodesPerZone ?? 3;
    const capacity = opts.nodeCapacity ?? { cpu: '64', memory: '256Gi', pods: '250', 'ephemeral-storage': '500Gi' };
    const nodes: SimNode[] = zones.flatMap((zone) => Array.from({ length: perZone }, (_, i) => ({ name: `kwok-${zone.replace(/^zone-/, '')}-${i + 1}`, zone })));
    for (const n of nodes) {
      await request('POST', '/api/v1/nodes', {
        apiVersion: 'v1', kind: 'Node',
        metadata: {
          name: n.name,
          annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: { ...opts.nodeLabels, type: 'kwok', [ZONE_LABEL]: n.zone, 'topology.kubernetes.io/region': 'sim', [HOSTNAME_LABEL]: n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
        },
        status: { capacity, allocatable: capacity },
      });
    }
    await request('POST', '/apis/storage.k8s.io/v1/storageclasses', {
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
      metadata: { name: 'zonal', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: PROVISIONER, volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Retain',
    });

    // The provisioner: a PV for each claim the scheduler placed (WaitForFirstConsumer), pinned to that node's zone.
    const zoneOf = new Map(nodes.map((n) => [n.name, n.zone]));
    const volumes = new Map<string, string>();
    const provisionOnce = async () => {
      const claims = await list('/api/v1/persistentvolumeclaims');
      for (const c of claims) {
        const node = c.metadata.annotations?.['volume.kubernetes.io/selected-node'];
        if (c.status?.phase !== 'Pending' || c.spec.volumeName || !node || !zoneOf.has(node)) continue;
        const pvName = `pvc-${c.metadata.uid}`;
        if (volumes.has(pvName)) continue;
        const zone = zoneOf.get(node)!;
        const r = await cp.request('POST', '/api/v1/persistentvolumes', {
          apiVersion: 'v1', kind: 'PersistentVolume',
          metadata: { name: pvName, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER }, labels: { [ZONE_LABEL]: zone } },
          spec: {
            capacity: { storage: c.spec.resources.requests.storage }, accessModes: c.spec.accessModes,
            volumeMode: c.spec.volumeMode ?? 'Filesystem', storageClassName: c.spec.storageClassName,
            persistentVolumeReclaimPolicy: 'Retain',
            claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: c.metadata.namespace, name: c.metadata.name, uid: c.metadata.uid },
            hostPath: { path: `/sim/${c.metadata.uid}` },
            nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: 'In', values: [zone] }] }] } },
          },
        });
        if (r.status === 201 || r.status === 409) volumes.set(pvName, zone);
      }
    };
    loop = (async () => {
      while (provisioning) {
        await provisionOnce().catch(() => undefined);
        await sleep(300);
      }
    })();

    const deadline = Date.now() + 120000;
    for (;;) {
      const live = await list('/api/v1/nodes');
      const ready = live.filter((n) => n.status?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True'));
      if (ready.length === nodes.length) break;
      for (const [name, log] of logs) {
        const p = procs.find((x) => x.spawnargs[0].endsWith(name));
        if (p && (p.exitCode !== null || p.signalCode !== null)) throw new Error(`${name} exited:\n${fs.readFileSync(log, 'utf8').slice(-3000)}`);
      }
      if (Date.now() > deadline) throw new Error(`nodes not Ready in time (${ready.length}/${nodes.length}):\n${fs.readFileSync(logs.get('kwok')!, 'utf8').slice(-3000)}`);
      await sleep(300);
    }

    return {
      cp, nodes, kubeconfig: admin, startupMs: Date.now() - started, volumes,
      helm: (args) => runHelmWithKubeconfig(admin, args),
      api: request,
      list,
      cordon: async (node, unschedulable = true) => { await request('PATCH', `/api/v1/nodes/${node}`, { spec: { unschedulable } }); },
      evict: (namespace, pod) => cp.request('POST', `/api/v1/namespaces/${namespace}/pods/${pod}/eviction`,
        { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace } }),
      log: (component, lines = 40) => {
        const f = logs.get(component);
        return f && fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
