import { Construct } from 'constructs';
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
