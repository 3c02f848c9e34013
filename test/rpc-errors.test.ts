/**
 * The njs engine's error table (lib/rpc/rpc.js), verdict by verdict: the same module nginx runs, loaded here for its
 * pure functions (judge, errorVerdict); the real-process tests in test/rpc-njs.test.ts prove the routing.
 */
import { describe, expect, it } from 'vitest';

interface Verdict { kind: string; code: string }
interface RpcModule { judge(status: number, text: string): Verdict; errorVerdict(error: unknown): string }

async function rpc(): Promise<RpcModule> {
  const path = '../lib/rpc/rpc.js';
  return ((await import(path)) as { default: RpcModule }).default;
}

const error = (code: number, message: string): string => JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code, message } });

describe('rpc.js error table', () => {
  it.each([
    // your request is wrong: back to the client, no retry
    [-32602, 'invalid argument 0: hex string has length 3', 'client'],
    [3, 'execution reverted: not owner', 'client'],
    [-32700, 'parse error', 'client'],
    [-32600, 'invalid request', 'client'],
    [-32003, 'transaction rejected', 'client'],
    [-32000, 'nonce too low: next nonce 5, tx nonce 4', 'client'],
    [-32000, 'insufficient funds for gas * price + value', 'client'],
    [-32000, 'already known', 'client'],
    [-32000, 'execution reverted', 'client'],
    [-32000, 'execution reverted: timeout not reached', 'client'],
    // rate limited: retry elsewhere and back off
    [-32005, 'daily request count exceeded, request rate limited', 'rate'],
    [-32005, 'limit exceeded', 'rate'],
    [-32000, 'Too Many Requests', 'rate'],
    [-32001, 'monthly quota reached', 'rate'],
    // this upstream failed: retry elsewhere, count toward maxFails
    [-32603, 'internal error', 'fail'],
    [-32002, 'resource unavailable', 'fail'],
    [-32000, 'header not found', 'fail'],
    [-32000, 'missing trie node 1a2b (path )', 'fail'],
    [-32000, 'request timed out', 'fail'],
    [-32000, 'historical state not available in path scheme yet', 'fail'],
    // ask another, no penalty
    [-32601, 'the method debug_traceTransaction does not exist/is not available', 'other'],
    [-32004, 'method not supported', 'other'],
    [-32005, 'query returned more than 10000 results', 'other'],
  ] as const)('%i "%s" → %s', async (code, message, verdict) => {
    expect((await rpc()).errorVerdict({ code, message })).toBe(verdict);
  });

  it('judges HTTP status, bodies and batches; metrics codes are the status or rpc<code>', async () => {
    const { judge } = await rpc();
    expect(judge(200, '{"jsonrpc":"2.0","id":1,"result":"0x1"}')).toEqual({ kind: 'ok', code: '200' });
    expect(judge(200, error(-32005, 'rate limited'))).toEqual({ kind: 'rate', code: 'rpc-32005' });
    expect(judge(200, error(-32602, 'invalid params'))).toEqual({ kind: 'client', code: '200' });
    expect(judge(200, error(-32601, 'method not found'))).toEqual({ kind: 'other', code: '200' });
    expect(judge(429, 'slow down')).toEqual({ kind: 'rate', code: '429' });
    expect(judge(429, error(429, 'Your app has exceeded its compute units per second capacity'))).toEqual({ kind: 'rate', code: '429' });
    expect(judge(503, error(-32603, 'overloaded'))).toEqual({ kind: 'fail', code: '503' });
    expect(judge(401, error(-32000, 'invalid api key'))).toEqual({ kind: 'fail', code: '401' });
    expect(judge(502, 'bad gateway')).toEqual({ kind: 'fail', code: '502' });
    expect(judge(200, '<html>maintenance</html>')).toEqual({ kind: 'fail', code: '502' });
    expect(judge(200, '{"unexpected":true}')).toEqual({ kind: 'fail', code: '502' });
    // A batch takes its worst element.
    const batch = JSON.stringify([{ jsonrpc: '2.0', id: 1, result: '0x1' }, { jsonrpc: '2.0', id: 2, error: { code: -32000, message: 'header not found' } }]);
    expect(judge(200, batch)).toEqual({ kind: 'fail', code: 'rpc-32000' });
  });
});
