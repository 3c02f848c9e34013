import type { App, Chart } from 'cdk8s';
import { chain } from './chain';
import { quickstart } from './quickstart';

/** Every example app, by name. Tests and `examples/main.ts` iterate this list. */
export const EXAMPLES: Record<string, (app: App) => Chart> = {
  quickstart,
  chain,
};
