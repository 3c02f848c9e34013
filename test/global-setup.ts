/**
 * vitest globalSetup: makes sure the strict schemas exist before any test runs (a no-op when they are current), so
 * no test can start without them. Runs in the vitest main process, once per run.
 */
import { generateSchemas } from '../scripts/gen-schemas';

export default async function setup(): Promise<void> {
  await generateSchemas();
}
