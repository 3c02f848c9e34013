/**
 * values.yaml (defaults, commented) and values.schema.json (types, ranges, enums, patterns; unknown keys rejected)
 * from the same list of values, so the two can't drift.
 */
import type { KnobSchema } from '../knobs';
import { Node, emitYaml } from './yaml';

export interface ValueEntry {
  readonly path: string;
  readonly description: string;
  readonly schema: KnobSchema | JsonSchema;
  readonly default: unknown;
  /** Comment above the values section the entry opens, e.g. the construct it belongs to. */
  readonly section?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonSchema = Record<string, any>;

interface Tree {
  readonly children: Map<string, Tree>;
  entry?: ValueEntry;
  section?: string;
}

function buildTree(entries: readonly ValueEntry[]): Tree {
  const root: Tree = { children: new Map() };
  for (const e of entries) {
    const segments = e.path.split('.');
    let node = root;
    segments.forEach((seg, i) => {
      if (node.entry) throw new Error(`helm chart writer: value ${e.path} is nested under value ${node.entry.path}`);
      let child = node.children.get(seg);
      if (!child) {
        child = { children: new Map() };
        node.children.set(seg, child);
        if (i === 0 && e.section) child.section = e.section;
      }
      node = child;
    });
    if (node.entry || node.children.size > 0) throw new Error(`helm chart writer: value ${e.path} is declared twice or has values nested under it`);
    node.entry = e;
  }
  return root;
}

/** The default values as a plain object. */
export function defaultValues(entries: readonly ValueEntry[]): Record<string, unknown> {
  const toObject = (t: Tree): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, child] of t.children) out[k] = child.entry ? child.entry.default : toObject(child);
    return out;
  };
  return toObject(buildTree(entries));
}

/** values.yaml text: each value with its description as a comment. */
export function valuesYaml(entries: readonly ValueEntry[], header: string): string {
  const write = (t: Tree, indent: number): string => {
    let out = '';
    const pad = ' '.repeat(indent);
    for (const [k, child] of t.children) {
      if (child.section) out += `\n${pad}# ${child.section}\n`;
      if (child.entry) {
        for (const line of child.entry.description.split('\n')) out += `${pad}# ${line}\n`;
        out += emitYaml({ [k]: child.entry.default as Node }, indent, { template: false });
      } else {
        out += emitYaml({ [k]: {} }, indent, { template: false }).replace(/ \{\}\n$/, '\n') + write(child, indent + 2);
      }
    }
    return out;
  };
  return `${header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n')}\n${write(buildTree(entries), 0)}`;
}

/** values.schema.json: draft-07, every object closed with `additionalProperties: false` and every key required. */
export function valuesSchema(entries: readonly ValueEntry[]): JsonSchema {
  const toSchema = (t: Tree): JsonSchema => ({
    type: 'object',
    additionalProperties: false,
    // A nullable value may be absent: `--set key=null` deletes the key rather than setting null.
    required: [...t.children].filter(([, child]) => !(child.entry?.schema as KnobSchema | undefined)?.nullable).map(([k]) => k),
    properties: Object.fromEntries([...t.children].map(([k, child]) => [k, child.entry ? knobJsonSchema(child.entry.schema, child.entry.description, child.entry.path) : toSchema(child)])),
  });
  const schema = toSchema(buildTree(entries));
  // Helm passes a parent chart's `global` values down to subcharts: check ours, accept any other.
  const global = schema.properties.global as JsonSchema | undefined;
  schema.properties.global = global
    ? { ...global, additionalProperties: true, required: [], description: 'Values shared with subcharts' }
    : { type: 'object', description: 'Values shared with subcharts (unused by this chart)' };
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'Values', ...schema };
}

/** A knob schema as JSON Schema, checking that helm's Go regexp engine can run its patterns. */
export function knobJsonSchema(k: KnobSchema | JsonSchema, description: string | undefined, where: string): JsonSchema {
  const out: JsonSchema = {};
  if (description) out.description = description;
  for (const [key, value] of Object.entries(k)) {
    switch (key) {
      case 'items': case 'not': out[key] = knobJsonSchema(value, undefined, where); break;
      case 'numbers': {
        // `--set x=1` arrives as a number: accept it beside the string form, within the same bounds.
        const n = value as NonNullable<KnobSchema['numbers']>;
        out.type = [k.type, n.integer ? 'integer' : 'number'];
        if (n.minimum !== undefined) out.minimum = n.minimum;
        if (n.exclusiveMinimum !== undefined) out.exclusiveMinimum = n.exclusiveMinimum;
        if (n.multipleOf !== undefined) out.multipleOf = n.multipleOf;
        break;
      }
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(value as Record<string, KnobSchema>).map(([p, s]) => [p, knobJsonSchema(s, undefined, `${where}.${p}`)]));
        out.additionalProperties = false;
        break;
      case 'pattern': {
        // `^(?!latest$)…` (refuse whole words) is common in JavaScript patterns; RE2 says it with `not`.
        const refused = /^\^\(\?!((?:[\w.-]+\|)*[\w.-]+)\$\)(.*)$/.exec(value as string);
        if (refused && !('not' in k)) {
          out.pattern = checkRe2(`^${refused[2]}`, where);
          out.not = { enum: refused[1].split('|') };
        } else {
          out.pattern = checkRe2(value as string, where);
        }
        break;
      }
      case 'nullable': break;
      default: out[key] = value;
    }
  }
  if (k.numbers) out.type = [k.type, k.numbers.integer ? 'integer' : 'number'];
  if (k.nullable) out.type = [...[out.type].flat(), 'null'];
  return out;
}

/**
 * helm validates values with Go's RE2 engine: no lookaround, no backreferences. A pattern it can't compile would
 * make every install fail, so refuse it here, where the construct author can fix it.
 */
export function checkRe2(pattern: string, where: string): string {
  if (/\(\?<?[=!]/.test(pattern) || /\\[1-9]/.test(pattern)) {
    throw new Error(`helm chart writer: ${where}: pattern ${JSON.stringify(pattern)} uses lookaround or backreferences, which helm's Go regexp engine (RE2) does not support; use "not": { "enum": [...] } or a simpler pattern`);
  }
  try {
    new RegExp(pattern);
  } catch (e) {
    throw new Error(`helm chart writer: ${where}: pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(e as Error).message}`);
  }
  return pattern;
}

/** Short type label for the README table. */
export function typeLabel(schema: KnobSchema | JsonSchema): string {
  if (schema.numbers) return `${schema.type} or ${schema.numbers.integer ? 'integer' : 'number'}`;
  if (Array.isArray(schema.enum)) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(' \\| ');
  if (schema.type === 'array' && schema.items) return `${typeLabel(schema.items)}[]`;
  const range = schema.minimum !== undefined || schema.maximum !== undefined
    ? ` (${schema.minimum ?? ''}–${schema.maximum ?? ''})` : '';
  return `${schema.type}${range}${schema.nullable ? ' or null' : ''}`;
}
