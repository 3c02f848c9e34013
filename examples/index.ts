import type { App, Chart } from 'cdk8s';
import { acmeStore } from './acme';
import { orders } from './orders';
import { quickstart } from './quickstart';
import { sessions } from './sessions';

/** Every example app, by name. Tests and `examples/main.ts` iterate this list. */
export const EXAMPLES: Record<string, (app: App) => Chart> = {
  quickstart,
  orders,
  sessions,
  acmeStore,
};
