/**
 * Fakes for the njs engine tests: JSON-RPC nodes on 127.0.19.x (this area's loopback range) whose head block,
 * per-method answers and WebSocket pushes the test controls, and which count what reached them.
 */
import { existsSync } from 'fs';
import http from 'http';
import https from 'https';
import { AddressInfo } from 'net';
import { WebSocket, WebSocketServer } from 'ws';

/** Where scripts/setup.d/rpc.sh puts Debian trixie's nginx 1.26.3 + njs 0.8.9 (the image's versions). */
export const NJS_NGINX_HOME = process.env.SCALECHARTS_RPC_NGINX
  ?? (process.getuid?.() === 0 ? '/opt/scalecharts/rpc-nginx' : `${process.env.HOME}/.cache/scalecharts/rpc-nginx`);
export const NJS_NGINX = `${NJS_NGINX_HOME}/bin/nginx`;
export const NJS_MODULE = `${NJS_NGINX_HOME}/modules/ngx_http_js_module.so`;
export const njsAvailable = (): boolean => existsSync(NJS_NGINX) && existsSync(NJS_MODULE);

/** The id the pool's head poller uses, so fakes can tell polls from client calls. */
export const POLL_ID = 'rpc-pool-head';

export interface JsonRpcCall {
  readonly jsonrpc?: string;
  readonly id?: unknown;
  readonly method?: string;
  readonly params?: unknown[];
}

/** What a fake answers one call with: a result, a JSON-RPC error, or an HTTP-level failure. */
export type Answer = { result: unknown } | { error: { code: number; message: string } } | { http: number } | 'hang';

export interface RpcFake {
  readonly port: number;
  readonly host: string;
  /** Client calls per method (head polls excluded). */
  readonly calls: Map<string, number>;
  /** Head polls received. */
  polls: number;
  /** Raw params of every eth_sendRawTransaction received. */
  readonly rawTxs: string[];
  readonly servernames: Set<string>;
  readonly paths: string[];
  /** The block eth_blockNumber answers. */
  head: number;
  /** Per-call override; return undefined for the default answer. */
  answer?: (call: JsonRpcCall) => Answer | undefined;
  /** Open WebSocket connections. */
  readonly sockets: Set<WebSocket>;
  wsConnections: number;
  total(method?: string): number;
  reset(): void;
  /** Drops every connection and stops listening (an upstream going away). */
  close(): Promise<void>;
}

export async function startRpcFake(host: string, opts: { head?: number; ws?: boolean; tls?: { key: string; cert: string } } = {}): Promise<RpcFake> {
  const fake: RpcFake = {
    port: 0, host, calls: new Map(), polls: 0, rawTxs: [], servernames: new Set(), paths: [], head: opts.head ?? 1000,
    sockets: new Set(), wsConnections: 0,
    total(method?: string) {
      if (method) return this.calls.get(method) ?? 0;
      let n = 0;
      for (const v of this.calls.values()) n += v;
      return n;
    },
    reset() {
      this.calls.clear();
      this.polls = 0;
      this.rawTxs.length = 0;
    },
    close: async () => undefined,
  };
  const answerOne = (call: JsonRpcCall): Answer => {
    if (call.id === POLL_ID) fake.polls++;
    else fake.calls.set(call.method ?? '?', (fake.calls.get(call.method ?? '?') ?? 0) + 1);
    if (call.method === 'eth_sendRawTransaction') fake.rawTxs.push(String(call.params?.[0]));
    const custom = call.id === POLL_ID ? undefined : fake.answer?.(call);
    if (custom) return custom;
    if (call.method === 'eth_blockNumber') return { result: `0x${fake.head.toString(16)}` };
    if (call.method === 'eth_sendRawTransaction') return { result: `0x${'ab'.repeat(32)}` };
    return { result: '0x' };
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      fake.paths.push(req.url ?? '');
      const servername = (req.socket as { servername?: string | false }).servername;
      if (servername) fake.servernames.add(servername);
      let body: JsonRpcCall | JsonRpcCall[];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString()) as JsonRpcCall | JsonRpcCall[];
      } catch {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}');
        return;
      }
      const list = Array.isArray(body) ? body : [body];
      const answers = list.map(answerOne);
      if (answers.includes('hang')) return;
      const failure = answers.find((a): a is { http: number } => typeof a === 'object' && 'http' in a);
      if (failure) {
        res.writeHead(failure.http, { 'content-type': 'text/plain' }).end('fake failure');
        return;
      }
      const out = list.map((call, i) => ({ jsonrpc: '2.0', id: call.id ?? null, ...(answers[i] as object) }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Array.isArray(body) ? out : out[0]));
    });
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  if (opts.ws) {
    const wss = new WebSocketServer({ server });
    wss.on('connection', (socket) => {
      fake.wsConnections++;
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
      socket.on('message', (data) => {
        const call = JSON.parse(data.toString()) as { id: number; method: string };
        if (call.method !== 'eth_subscribe') return;
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: '0xcafe' }));
        // A "new head" every 25 ms for as long as the connection lives (the fake's own head, which the pool polls,
        // stays where the test put it).
        let block = fake.head;
        const timer = setInterval(() => {
          if (socket.readyState !== socket.OPEN) {
            clearInterval(timer);
            return;
          }
          block++;
          socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: '0xcafe', result: { number: `0x${block.toString(16)}`, from: host } } }));
        }, 25);
      });
    });
  }
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  Object.assign(fake, { port: (server.address() as AddressInfo).port });
  fake.close = async () => {
    for (const s of fake.sockets) s.terminate();
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  };
  return fake;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export interface CallResult {
  readonly status: number;
  readonly body: string;
  readonly json: unknown;
  readonly ms: number;
}

/** POSTs a JSON-RPC body (object or batch) to 127.0.0.1:port. */
export function post(port: number, payload: unknown, host = '127.0.0.1'): Promise<CallResult> {
  const started = performance.now();
  const text = JSON.stringify(payload);
  return new Promise((resolve) => {
    const req = http.request({ host, port, path: '/', method: 'POST', agent, timeout: 30_000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, json, ms: performance.now() - started });
      });
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => resolve({ status: 0, body: String(e), json: undefined, ms: performance.now() - started }));
    req.end(text);
  });
}

/** `count` calls made by `make(i)`, `concurrency` in flight. */
export async function load(port: number, count: number, make: (i: number) => unknown, concurrency = 8): Promise<CallResult[]> {
  const results: CallResult[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      results.push(await post(port, make(i)));
    }
  }));
  return results;
}

export const call = (method: string, id: number, params: unknown[] = []): JsonRpcCall => ({ jsonrpc: '2.0', id, method, params });

/** A successful JSON-RPC answer (every element of a batch). */
export function isOk(r: CallResult): boolean {
  if (r.status !== 200 || r.json === undefined) return false;
  const items = Array.isArray(r.json) ? r.json : [r.json];
  return items.every((i) => typeof i === 'object' && i !== null && 'result' in i && !('error' in i));
}
