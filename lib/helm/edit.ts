/**
 * Edits of a templated object tree (lib/helm/yaml.ts nodes) that the chart writer's values make after knobs and
 * names: raw template lines inserted at a map's position, entries replaced or made conditional.
 */
import { Node, RawEntry, Templated } from './yaml';


export type NodeMap = { [key: string]: Node };

export function mapAt(node: NodeMap, path: readonly (string | number)[]): NodeMap {
  let n: Node = node;
  for (const k of path) {
    n = (n as NodeMap)[k as string];
    if (n === undefined || n === null || typeof n !== 'object') throw new Error(`helm chart writer: no ${path.join('.')} to add values to`);
  }
  return n as NodeMap;
}

let seq = 0;
/** Rebuilds `map` in place with `entries` at position `index`. */
export function insertAt(map: NodeMap, index: number, entries: ReadonlyArray<[string, Node]>, remove?: string): void {
  const list = Object.entries(map).filter(([k]) => k !== remove);
  list.splice(index, 0, ...entries);
  for (const k of Object.keys(map)) delete map[k];
  for (const [k, val] of list) map[k] = val;
}

/** A raw line; `{{INDENT}}` in its text becomes the map's indentation. */
export function raw(text: (indent: number) => string): [string, Node] {
  return [`$cv-${seq++}`, new RawEntry((indent) => text(indent).replace(/\{\{INDENT\}\}/g, ' '.repeat(indent)))];
}

/** Replaces `key` (present or not) by raw template text, where it was (or at the end). */
export function replaceEntry(map: NodeMap, key: string, text: (indent: number) => string): void {
  const keys = Object.keys(map);
  const i = keys.indexOf(key);
  insertAt(map, i < 0 ? keys.length : i, [raw(text)], key);
}

/** `key: <value as JSON>` when `expr` is non-empty, else the synthesized entry (or nothing). */
export function overrideEntry(map: NodeMap, key: string, expr: string): void {
  const keys = Object.keys(map);
  const i = keys.indexOf(key);
  if (i < 0) {
    insertAt(map, keys.length, [raw(() => `{{- with ${expr} }}\n{{INDENT}}${key}: {{ toJson . }}\n{{INDENT}}{{- end }}`)]);
    return;
  }
  insertAt(map, i, [raw(() => `{{- if ${expr} }}\n{{INDENT}}${key}: {{ toJson ${expr} }}\n{{INDENT}}{{- else }}`)]);
  insertAt(map, i + 2, [raw(() => '{{- end }}')]);
}

/** Entries of the map value `expr` added to the map under `key` (created when absent). */
export function appendToMap(map: NodeMap, key: string, expr: string): void {
  const inner = map[key];
  if (inner && typeof inner === 'object' && !Array.isArray(inner) && !(inner instanceof Templated) && !(inner instanceof RawEntry) && Object.keys(inner).length > 0) {
    const m = inner as NodeMap;
    insertAt(m, Object.keys(m).length, [raw((indent) => `{{- with ${expr} }}{{- toYaml . | nindent ${indent} }}{{- end }}`)]);
    return;
  }
  replaceEntry(map, key, (indent) => `{{- with ${expr} }}\n{{INDENT}}${key}: {{- toYaml . | nindent ${indent + 2} }}\n{{INDENT}}{{- end }}`);
}

/** Items of the list `expr` appended to the list under `key` (created when absent). */
export function appendToList(map: NodeMap, key: string, expr: string): void {
  const keys = Object.keys(map);
  const i = keys.indexOf(key);
  const list = map[key];
  if (Array.isArray(list) && list.length > 0) {
    insertAt(map, i + 1, [raw((indent) => `{{- with ${expr} }}{{- toYaml . | nindent ${indent + 2} }}{{- end }}`)]);
    return;
  }
  // An empty list the construct wrote stays when nothing is added.
  const otherwise = Array.isArray(list) ? `\n{{INDENT}}{{- else }}\n{{INDENT}}${key}: []` : '';
  // Never first in the map: a container's first entry shares the line of its list dash.
  const where = i < 0 ? keys.length : i;
  insertAt(map, Math.max(where, 1), [raw((indent) => `{{- with ${expr} }}\n{{INDENT}}${key}: {{- toYaml . | nindent ${indent + 2} }}${otherwise}\n{{INDENT}}{{- end }}`)], key);
}
