import type { App, Chart } from 'cdk8s';
import { acmeStore } from './acme';
import { caracal } from './caracal';
import { ciel } from './ciel';
import { orders } from './orders';
import { chain } from './chain';
import { ida } from './ida';
import { media } from './media';
import { quickstart } from './quickstart';
import { sessions } from './sessions';
import { sorcha } from './sorcha';
import { storefront } from './storefront';
import { strataRouter } from './strata-router';

/** Every example app, by name. Tests and `examples/main.ts` iterate this list. */
export const EXAMPLES: Record<string, (app: App) => Chart> = {
  quickstart,
  orders,
  sessions,
  acmeStore,
  caracal,
  strataRouter,
  sorcha,
  storefront,
  ciel,
  chain,
  ida,
  media,
};
