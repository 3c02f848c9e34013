/**
 * A PostgresCluster with `failover: 'patroni'` run for real on loopback: etcd (Debian 13's, the fast suite's DCS),
 * one Patroni + PostgreSQL 17 member per pod at 127.0.15.x, PgBouncer 1.24.1 with the generated pgbouncer.ini, and
 * two small TCP relays standing in for what Kubernetes does: the `-rw` Service (new connections go to the member
 * Patroni marks as leader, as the role label + Service selector do) and each member's path to the DCS (so a test
 * can cut one member off). Every file comes out of the synthesized ConfigMaps; the pod's PATRONI_* environment is
 * used with the loopback addresses, and its PATRONI_KUBERNETES_* DCS settings swapped for PATRONI_ETCD3_HOSTS.
 */
import { readFileSync } from 'fs';
import { ChildProcess, execFile, spawn, spawnSync } from 'child_process';
import { createInterface } from 'readline';
import { join } from 'path';
import { expect } from 'vitest';
import { K8sObject, find } from './harness/synth';
import {
  Conn, ROOT, Server, freePort, makeServerDir, podEnv, psqlRaw, runScript, runStatus, serverTempDir, sleep, waitFor,
  writeServerFile,
} from './postgres-processes';

export const PASSWORDS = { superuser: `su:per"us'er1`, replication: `re\\pl"ic:a2`, app: 'app-secret-3' };
/** Paths the pod mounts; inside the test root they are the same paths. */
const CONFIG_DIR = '/etc/postgresql-cluster';
const RUN_DIR = '/var/run/postgresql';

/**
 * A TCP relay (test/tcp-relay.mjs, in its own process) whose target can change or be cut: the -rw Service in front
 * of the leader, or a member's link to etcd.
 */
export class Relay {
  public port = 0;
  public cut = false;
  constructor(private readonly hub: RelayHub, public readonly name: string, public readonly host: string) {}

  target(host: string | undefined, port = 0): void {
    this.hub.send({ op: 'target', name: this.name, host: host ?? null, port });
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    this.hub.send({ op: 'cut', name: this.name, cut });
  }
}

export class RelayHub {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (port: number) => void>();

  constructor() {
    this.child = spawn(process.execPath, [join(__dirname, 'tcp-relay.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const { name, port } = JSON.parse(line) as { name: string; port: number };
      this.waiting.get(name)?.(port);
    });
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  async relay(name: string, host: string): Promise<Relay> {
    const relay = new Relay(this, name, host);
    relay.port = await new Promise<number>((resolve) => { this.waiting.set(name, resolve); this.send({ op: 'listen', name, host }); });
    return relay;
  }

  stop(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}

export interface Member {
  readonly name: string;
  readonly host: string;
  readonly pgPort: number;
  readonly apiPort: number;
  readonly dcs: Relay;
  server?: Server;
}

/** GET on a member's REST API; the status code, or 0 when it does not answer. */
export function restStatus(m: Member, path: string): number {
  const res = spawnSync('curl', ['--silent', '--output', '/dev/null', '--write-out', '%{http_code}', '--max-time', '2', `http://${m.host}:${m.apiPort}${path}`], { encoding: 'utf8' });
  return Number(res.stdout || 0);
}

/** The same, without blocking the event loop. */
export function restStatusAsync(m: Member, path: string): Promise<number> {
  return new Promise((resolve) => execFile('curl', ['--silent', '--output', '/dev/null', '--write-out', '%{http_code}', '--max-time', '1', `http://${m.host}:${m.apiPort}${path}`],
    (_err, stdout) => resolve(Number(stdout || 0))));
}

export function restJson(m: Member, path: string): Record<string, unknown> | undefined {
  const res = spawnSync('curl', ['--silent', '--max-time', '2', `http://${m.host}:${m.apiPort}${path}`], { encoding: 'utf8' });
  try { return JSON.parse(res.stdout); } catch { return undefined; }
}

export class PatroniCluster {
  public dir = '';
  public readonly members: Member[] = [];
  public etcd?: Server;
  public rw!: Relay;
  private readonly hub = new RelayHub();
  private poller?: NodeJS.Timeout;
  public pooler?: Server;
  public poolerPort = 0;
  private etcdPort = 0;
  private readonly servers: Server[] = [];

  /**
   * `kubernetes`: the pod's own DCS settings, against a real API server (test/cluster/): Patroni runs in-cluster
   * mode with the ServiceAccount token at the pod's path, /var/run/secrets/kubernetes.io/serviceaccount.
   */
  constructor(private readonly objects: K8sObject[], private readonly name: string, private readonly subnet: number,
    private readonly kube?: { host: string; port: number; namespace: string },
    /** The "pod" /24 (each suite has its own, so suites running at once never collide). */
    private readonly net = '127.0.15') {}

  private container(which: 'init' | 'main'): K8sObject {
    const spec = find(this.objects, 'StatefulSet', this.name).spec.template.spec;
    return which === 'init' ? spec.initContainers[0] : spec.containers[0];
  }

  async start(count: number): Promise<void> {
    this.dir = serverTempDir('scalecharts-patroni-');
    for (const [file, content] of Object.entries(find(this.objects, 'ConfigMap', `${this.name}-config`).data as Record<string, string>)) {
      writeServerFile(join(ROOT, CONFIG_DIR, file), content, 0o644);
      writeServerFile(join(this.dir, 'config', file), content, 0o644);
    }
    for (const [file, content] of Object.entries(find(this.objects, 'ConfigMap', `${this.name}-pooler-config`).data as Record<string, string>)) {
      writeServerFile(join(this.dir, 'pooler-config', file), content, 0o644);
    }
    for (const [which, password] of Object.entries(PASSWORDS)) writeServerFile(join(this.dir, 'passwords', which), password, 0o400);

    const etcdHost = `${this.net}.${this.subnet + 10}`;
    if (this.kube) {
      for (let i = 0; i < count; i++) {
        const host = `${this.net}.${this.subnet + i + 1}`;
        this.members.push({ name: `${this.name}-${i}`, host, pgPort: await freePort(), apiPort: await freePort(), dcs: undefined as never });
      }
      await this.startRw();
      for (const m of this.members) this.startMember(m);
      return;
    }
    this.etcdPort = await freePort();
    const peerPort = await freePort();
    this.etcd = this.spawn('etcd', ['etcd', '--name=dcs', `--data-dir=${makeServerDir(join(this.dir, 'etcd'))}`,
      `--listen-client-urls=http://${etcdHost}:${this.etcdPort}`, `--advertise-client-urls=http://${etcdHost}:${this.etcdPort}`,
      `--listen-peer-urls=http://${etcdHost}:${peerPort}`, `--initial-advertise-peer-urls=http://${etcdHost}:${peerPort}`,
      `--initial-cluster=dcs=http://${etcdHost}:${peerPort}`, '--log-level=warn'], {}, join(this.dir, 'etcd'));
    await waitFor('etcd', () => spawnSync('curl', ['--silent', '--max-time', '1', `http://${etcdHost}:${this.etcdPort}/health`], { encoding: 'utf8' }).stdout.includes('true'), 20_000, 100)
      .catch((e) => { throw new Error(`${e.message}\n${this.etcd?.output}`); });

    for (let i = 0; i < count; i++) {
      const host = `${this.net}.${this.subnet + i + 1}`;
      const dcs = await this.hub.relay(`dcs-${i}`, host);
      dcs.target(etcdHost, this.etcdPort);
      this.members.push({ name: `${this.name}-${i}`, host, pgPort: await freePort(), apiPort: await freePort(), dcs });
    }
    await this.startRw();
    for (const m of this.members) this.startMember(m);
  }

  private async startRw(): Promise<void> {
    // The -rw Service: new connections go to the member whose REST API says it holds the leader lock (Patroni's
    // role label and the Service selector do this in a cluster), polled every 100 ms like an endpoints update.
    this.rw = await this.hub.relay('rw', `${this.net}.${this.subnet + 20}`);
    let current: Member | undefined;
    let busy = false;
    this.poller = setInterval(() => {
      if (busy) return;
      busy = true;
      void Promise.all(this.members.map(async (m) => (m.server?.running && await restStatusAsync(m, '/primary') === 200 ? m : undefined)))
        .then((found) => {
          const leader = found.find((m) => m !== undefined);
          if (leader !== current) { current = leader; this.rw.target(leader?.host, leader?.pgPort); }
        })
        .finally(() => { busy = false; });
    }, 100);
  }

  private spawn(name: string, argv: string[], env: Record<string, string>, home: string): Server {
    const server = new Server(name, argv, env, home);
    this.servers.push(server);
    return server;
  }

  /** The pod's environment for member `m`, on loopback, with etcd as the DCS. */
  memberEnv(m: Member, which: 'init' | 'main'): Record<string, string> {
    const home = join(this.dir, m.name);
    const values: Record<string, string> = {
      POD_IP: m.host,
      PATRONI_NAME: m.name,
      PATRONI_RESTAPI_LISTEN: `${m.host}:${m.apiPort}`,
      PATRONI_RESTAPI_CONNECT_ADDRESS: `${m.host}:${m.apiPort}`,
      PATRONI_POSTGRESQL_LISTEN: `${m.host}:${m.pgPort}`,
      PATRONI_POSTGRESQL_CONNECT_ADDRESS: `${m.host}:${m.pgPort}`,
      PATRONI_POSTGRESQL_DATA_DIR: join(home, 'pgdata'),
      PATRONI_KUBERNETES_NAMESPACE: this.kube?.namespace ?? 'unused',
      PATRONI_KUBERNETES_POD_IP: m.host,
      PATRONI_RUN_DIR: home,
      SUPERUSER_PASSWORD_FILE: join(this.dir, 'passwords/superuser'),
      REPLICATION_PASSWORD_FILE: join(this.dir, 'passwords/replication'),
      APP_PASSWORD_FILE: join(this.dir, 'passwords/app'),
    };
    const container = this.container(which);
    const declared = new Set((container.env ?? []).map((e: K8sObject) => e.name));
    const env = podEnv(container, Object.fromEntries(Object.entries(values).filter(([k]) => declared.has(k))));
    if (which === 'init') return env;
    // What the kubelet injects into every container: the API server's address.
    if (this.kube) return { ...env, KUBERNETES_SERVICE_HOST: this.kube.host, KUBERNETES_SERVICE_PORT: String(this.kube.port), PATRONI_POSTGRESQL_PGPASS: join(home, '.pgpass') };
    // The fast suite's DCS is etcd: the pod's Kubernetes DCS settings out, this member's link to etcd in.
    for (const k of Object.keys(env)) if (k.startsWith('PATRONI_KUBERNETES_')) delete env[k];
    // use_proxies: talk only to this member's relay, never to the member list etcd advertises (so a cut holds).
    return { ...env, PATRONI_ETCD3_HOSTS: `${m.host}:${m.dcs.port}`, PATRONI_ETCD3_USE_PROXIES: 'true', PATRONI_POSTGRESQL_PGPASS: join(home, '.pgpass') };
  }

  /** The init container renders patroni.yml (passwords from the files), then Patroni runs it. */
  startMember(m: Member): Server {
    const home = makeServerDir(join(this.dir, m.name));
    const init = this.container('init');
    expect(init.command).toEqual(['bash', `${CONFIG_DIR}/patroni-init.sh`]);
    runScript(join(CONFIG_DIR, 'patroni-init.sh'), { ...this.memberEnv(m, 'init'), PATRONI_RUN_DIR: home }, home);
    const main = this.container('main');
    expect(main.command).toEqual(['patroni', `${RUN_DIR}/patroni.yml`]);
    m.server = this.spawn(m.name, ['patroni', join(home, 'patroni.yml')], this.memberEnv(m, 'main'), home);
    return m.server;
  }

  /** kill -9 of a member's Patroni and its postmaster at once: the pod's node is gone. */
  async killMember(m: Member): Promise<void> {
    const pidFile = join(this.dir, m.name, 'pgdata', 'postmaster.pid');
    let postmaster = 0;
    try { postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]); } catch { /* not running */ }
    m.server?.process.kill('SIGKILL');
    if (postmaster) { try { process.kill(postmaster, 'SIGKILL'); } catch { /* gone */ } }
    await m.server?.stop('SIGKILL');
  }

  leader(): Member | undefined {
    return this.members.find((m) => m.server?.running && restStatus(m, '/primary') === 200);
  }

  async waitLeader(timeoutMs = 60_000, not?: Member): Promise<Member> {
    let found: Member | undefined;
    await waitFor('a Patroni leader', () => { found = this.leader(); return found !== undefined && found !== not; }, timeoutMs, 100)
      .catch((e) => { throw new Error(`${e.message}\n${this.members.map((m) => `--- ${m.name}\n${m.server?.output.slice(-3000)}`).join('\n')}`); });
    return found!;
  }

  su(m: Member): Conn { return { port: m.pgPort, user: 'postgres', database: 'postgres', password: PASSWORDS.superuser, host: m.host }; }
  app(m: Member): Conn { return { port: m.pgPort, user: 'app', database: 'app', password: PASSWORDS.app, host: m.host }; }

  /** true when the member accepts writes (up and out of recovery). */
  writable(m: Member): boolean {
    const res = psqlRaw(this.su(m), 'SELECT pg_is_in_recovery()');
    return res.status === 0 && res.stdout.trim() === 'f';
  }

  async startPooler(): Promise<void> {
    const poolerDir = makeServerDir(join(this.dir, 'pooler'));
    this.poolerPort = await freePort();
    const init = find(this.objects, 'Deployment', `${this.name}-pooler`).spec.template.spec.initContainers[0];
    runScript(join(this.dir, 'pooler-config/pooler-init.sh'), podEnv(init, {
      PGBOUNCER_CONFIG_DIR: join(this.dir, 'pooler-config'), PGBOUNCER_RUN_DIR: poolerDir, POSTGRES_HOST: this.rw.host,
      POSTGRES_PORT: String(this.rw.port), PGBOUNCER_LISTEN_ADDR: '127.0.0.1', PGBOUNCER_PORT: String(this.poolerPort),
      APP_PASSWORD_FILE: join(this.dir, 'passwords/app'),
    }), poolerDir);
    this.pooler = this.spawn('pgbouncer', ['pgbouncer', join(poolerDir, 'pgbouncer.ini')], {}, poolerDir);
    await waitFor('pgbouncer', () => psqlRaw({ port: this.poolerPort, user: 'app', database: 'app', password: PASSWORDS.app }, 'SELECT 1').status === 0, 30_000, 100)
      .catch((e) => { throw new Error(`${e.message}\n${this.pooler?.output}`); });
  }

  /** Runs the member's preStop hook (the real patroni-pre-stop.sh with the pod's environment). */
  preStop(m: Member): { status: number | null; output: string } {
    const main = this.container('main');
    expect(main.lifecycle.preStop.exec.command).toEqual(['bash', `${CONFIG_DIR}/patroni-pre-stop.sh`]);
    return runStatus(['bash', join(CONFIG_DIR, 'patroni-pre-stop.sh')], this.memberEnv(m, 'main'), join(this.dir, m.name), 90_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop('SIGTERM', 15_000)));
    clearInterval(this.poller);
    for (const m of this.members) {
      const pidFile = join(this.dir, m.name, 'pgdata', 'postmaster.pid');
      try { process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGKILL'); } catch { /* gone */ }
    }
    this.hub.stop();
    await sleep(200);
  }
}

