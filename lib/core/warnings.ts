import { IConstruct } from 'constructs';

/** Metadata type under which constructs record what synth lets through but a user must know (e.g. PostgresCluster). */
export const WARNING_METADATA = 'scalecharts:warning';

/** Every construct warning under `scope`, each prefixed with the construct path that raised it. */
export function constructWarnings(scope: IConstruct): string[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata.filter((m) => m.type === WARNING_METADATA).map((m) => `${c.node.path}: ${String(m.data)}`));
}
