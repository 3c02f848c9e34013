import { App, Chart, Testing } from 'cdk8s';
import type { Construct } from 'constructs';
import { throwIfInvalid } from '../../lib/core/problems';
import { expectLintClean } from './kubelint';
import { expectValidObjects } from './schema';

/** A synthesized Kubernetes object, as plain JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = Record<string, any>;

/**
 * Synthesizes a chart and checks every object against the strict Kubernetes 1.28 / CRD schemas and the
 * kube-linter default checks before returning them: a construct test reads synth → assert, and can't forget
 * to validate.
 */
export function synth(build: (chart: Chart) => void, opts: { namespace?: string } = {}): K8sObject[] {
  const app = Testing.app();
  const chart = new Chart(app, 'test', { namespace: opts.namespace ?? 'default' });
  build(chart);
  runValidations(chart);
  return validated(Testing.synth(chart));
}

/** Synthesizes a whole app (every chart) with validation, as `cdk8s synth` would. */
export function synthApp(build: (app: App) => void): K8sObject[] {
  const app = Testing.app();
  build(app);
  app.charts.forEach(runValidations);
  const objects = app.charts.flatMap((c) => Testing.synth(c));
  return validated(objects);
}

function validated(objects: K8sObject[]): K8sObject[] {
  expectValidObjects(objects);
  expectLintClean(objects);
  return objects;
}

/** Builds without synthesizing: for tests that expect the constructor to throw. */
export function build(fn: (chart: Chart) => Construct | void): void {
  const chart = new Chart(Testing.app(), 'test');
  fn(chart);
  runValidations(chart);
  Testing.synth(chart);
}

/**
 * Runs the constructs' synth-time validations (resolve-step errors, chart-wide checks such as connection budgets), as
 * `app.synth()` does; `Testing.synth` alone skips them. Throws the one ValidationError found, or all of them together.
 */
function runValidations(scope: Construct): void {
  throwIfInvalid(scope);
}

export function findAll(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The one object of `kind` (and `name`, when given); fails the test when there is not exactly one. */
export function find(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const hits = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (hits.length !== 1) {
    throw new Error(`expected exactly one ${kind}${name ? ` named ${name}` : ''}, found ${hits.length}: ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  }
  return hits[0];
}

/** The first container of a workload's pod template. */
export function container(workload: K8sObject, name?: string): K8sObject {
  const containers: K8sObject[] = workload.spec.template.spec.containers;
  const c = name ? containers.find((x) => x.name === name) : containers[0];
  if (!c) throw new Error(`no container ${name ?? ''} in ${workload.kind}/${workload.metadata.name}`);
  return c;
}
