import { readFileSync } from 'fs';
import { join } from 'path';

/** The config templates and scripts shipped beside this file, read at construct time. */
export const ASSETS = {
  postgresqlConf: 'postgresql.conf',
  pgHbaConf: 'pg_hba.conf',
  bootstrapPrimary: 'bootstrap-primary.sh',
  bootstrapReplica: 'bootstrap-replica.sh',
  runPostgres: 'run-postgres.sh',
  probe: 'probe.sh',
  patroniYml: 'patroni.yml',
  patroniInit: 'patroni-init.sh',
  postBootstrap: 'post-bootstrap.sh',
  patroniPreStop: 'patroni-pre-stop.sh',
  pgbouncerIni: 'pgbouncer.ini',
  poolerInit: 'pooler-init.sh',
} as const;

const cache = new Map<string, string>();

export function readAsset(file: string): string {
  let text = cache.get(file);
  if (text === undefined) {
    text = readFileSync(join(__dirname, file), 'utf8');
    cache.set(file, text);
  }
  return text;
}

/**
 * Fills `{{name}}` placeholders. Every placeholder must have a value and every value must be used, so a
 * template and the code that renders it can't drift apart silently.
 */
export function renderTemplate(file: string, values: Record<string, string | number>): string {
  const used = new Set<string>();
  const text = readAsset(file).replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`${file}: no value for placeholder {{${name}}}`);
    used.add(name);
    return String(values[name]);
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`${file}: values without a placeholder: ${unused.join(', ')}`);
  return text;
}
