/**
 * A YAML emitter for Helm templates: plain JSON values, plus {@link Templated} scalars whose text mixes literal parts
 * with Go template actions. It controls the style of every scalar, so that what Helm renders parses back to exactly
 * the value the construct synthesized (YAML 1.1 is what Helm's parser speaks: `no`, `on`, `y` are booleans there).
 */

/** A Go template pipeline, without the braces, e.g. `.Release.Name` or `int .Values.api.replicas`. */
export interface Action {
  readonly expr: string;
  /**
   * True when the action can only produce characters that need no quoting in any YAML style (release names,
   * namespaces, numbers, DNS names checked by the values schema).
   */
  readonly safe: boolean;
  /** Whitespace trimming of the action as written (`{{-`, `-}}`), kept for control structures in config files. */
  readonly trim?: { readonly left: boolean; readonly right: boolean };
}

export type Part = string | Action;

/** The type a whole-field action renders as. */
export type ScalarType = 'integer' | 'number' | 'boolean' | 'string' | 'json';

/**
 * A scalar computed at install time. Either `parts` (a string assembled from literals and actions) or a single
 * action rendered as a typed value (`typed`).
 */
export class Templated {
  public static typed(expr: string, type: ScalarType): Templated {
    return new Templated([{ expr, safe: type === 'integer' || type === 'number' || type === 'boolean' }], type);
  }

  public static text(parts: readonly Part[]): Templated {
    return new Templated(mergeLiterals(parts));
  }

  private constructor(public readonly parts: readonly Part[], public readonly type?: ScalarType) {}

  /** The parts that are actions. */
  public get actions(): Action[] {
    return this.parts.filter((p): p is Action => typeof p !== 'string');
  }
}

/** A line of template text inside a map, e.g. `include "chart.labels" . | nindent 4` (indentation is added). */
export class RawEntry {
  constructor(public readonly render: (indent: number) => string) {}
}

export type Node = null | boolean | number | string | Templated | RawEntry | Node[] | { [key: string]: Node };

/**
 * Emits `value` as a YAML block (no document marker), each line ending in a newline. For template files
 * (`template: true`, the default) literal `{{` is escaped so Go templates print it as is; plain YAML files (values.yaml,
 * Chart.yaml) take no {@link Templated} values and no escaping.
 */
export function emitYaml(value: Node, indent = 0, opts: { template?: boolean } = {}): string {
  const esc = opts.template === false ? (s: string) => s : escapeActions;
  return emitNode(value, indent, esc);
}

type Escape = (text: string) => string;

function emitNode(value: Node, indent: number, esc: Escape): string {
  if (isMap(value)) return emitMap(value, indent, esc);
  if (Array.isArray(value)) return emitList(value, indent, esc);
  return `${' '.repeat(indent)}${scalar(value, indent, esc)}\n`;
}

function isMap(v: Node): v is { [key: string]: Node } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Templated) && !(v instanceof RawEntry);
}

function emitMap(map: { [key: string]: Node }, indent: number, esc: Escape): string {
  const pad = ' '.repeat(indent);
  const entries = Object.entries(map);
  if (entries.length === 0) return `${pad}{}\n`;
  let out = '';
  for (const [key, value] of entries) {
    if (value instanceof RawEntry) {
      out += `${pad}${value.render(indent)}\n`;
      continue;
    }
    const k = `${pad}${esc(isPlain(key) ? key : JSON.stringify(key))}:`;
    if ((isMap(value) && Object.keys(value).length > 0) || (Array.isArray(value) && value.length > 0)) {
      out += `${k}\n${emitNode(value, indent + 2, esc)}`;
    } else {
      out += `${k} ${scalar(value, indent + 2, esc)}\n`;
    }
  }
  return out;
}

function emitList(list: Node[], indent: number, esc: Escape): string {
  const pad = ' '.repeat(indent);
  if (list.length === 0) return `${pad}[]\n`;
  let out = '';
  for (const item of list) {
    if (isMap(item) && Object.keys(item).length > 0) {
      // The first entry of the map shares the line of the dash.
      const block = emitMap(item, indent + 2, esc);
      out += `${pad}- ${block.slice(indent + 2)}`;
    } else if (Array.isArray(item) && item.length > 0) {
      out += `${pad}-\n${emitList(item, indent + 2, esc)}`;
    } else {
      out += `${pad}- ${scalar(item, indent + 2, esc)}\n`;
    }
  }
  return out;
}

function scalar(value: Node, indent: number, esc: Escape): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} to YAML`);
    return String(value);
  }
  if (typeof value === 'string') return esc(stringScalar(value, indent));
  if (value instanceof Templated) return templatedScalar(value, indent);
  if (Array.isArray(value)) return '[]';
  if (value instanceof RawEntry) throw new Error('a raw template line can only be a map entry');
  return '{}';
}

/**
 * Words YAML 1.1 reads as booleans or null. Helm parses with YAML 1.1 rules, so `n: 3` has the key `false`.
 */
const YAML11_RESERVED = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;
/** Strings safe as plain scalars: start with a letter, `_` or `/`, then no indicator characters or spaces. */
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;

function isPlain(s: string): boolean {
  return PLAIN.test(s) && !YAML11_RESERVED.test(s);
}

/** Multi-line text that a literal block can carry unchanged (no carriage returns or other control characters). */
function literalBlockable(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return s.includes('\n') && !/[\u0000-\u0008\u000b-\u001f\u007f\u0085\u2028\u2029\ufeff]/.test(s) && s.trim() !== '';
}

function stringScalar(s: string, indent: number): string {
  if (isPlain(s)) return s;
  if (literalBlockable(s)) return literalBlock(s, indent);
  // JSON strings are YAML double-quoted scalars.
  return JSON.stringify(s);
}

/** A `|` block; `text` may contain template actions (they sit inside lines and render without a newline). */
function literalBlock(text: string, indent: number): string {
  const trailing = /\n*$/.exec(text)![0].length;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const body = trailing > 0 ? text.slice(0, text.length - 1) : text;
  // An indentation indicator tells the parser where content starts when the first line itself starts with spaces.
  const indicator = /^[ \n]/.test(text) ? '2' : '';
  const pad = ' '.repeat(indent);
  const lines = body.split('\n').map((l) => (l === '' ? '' : pad + l));
  return `|${indicator}${chomp}\n${lines.join('\n')}`;
}

/** Literal `{{` in template text must itself be written as an action. */
function escapeActions(text: string): string {
  return text.replace(/\{\{/g, '{{ "{{" }}');
}

function action(expr: string, trim?: Action['trim']): string {
  return `{{${trim?.left ? '-' : ''} ${expr} ${trim?.right ? '-' : ''}}}`;
}

/** Actions that are control structures (`range`, `if`, `end`…) rather than values. */
function isControl(a: Action): boolean {
  return /^(range|if|else|end|with|define|template|block|break|continue)\b/.test(a.expr);
}

/** `expr` as an operand: a bare field or variable stays bare, a pipeline gets parentheses. */
function operand(expr: string): string {
  return /^[.$][A-Za-z0-9_.$]*$/.test(expr) ? expr : `(${expr})`;
}

function templatedScalar(t: Templated, indent: number): string {
  if (t.type) {
    const expr = t.actions[0].expr;
    switch (t.type) {
      case 'integer': return action(`int ${operand(expr)}`);
      case 'number': return action(`${operand(expr)} | toJson`);
      case 'boolean': return action(expr);
      case 'string': return action(`${operand(expr)} | quote`);
      case 'json': return action(`${operand(expr)} | toJson`);
    }
  }
  const literalText = t.parts.map((p) => (typeof p === 'string' ? p : 'x')).join('');
  if (literalText.includes('\n')) {
    // Config files: a literal block with the actions inline, as a person would write the template.
    if (!literalBlockable(literalText)) throw new Error('templated multi-line text must be printable');
    const text = t.parts.map((p) => (typeof p === 'string' ? escapeActions(p) : action(p.expr, p.trim))).join('');
    return literalBlock(text, indent);
  }
  if (t.actions.every((a) => a.safe) || t.actions.some(isControl)) {
    // Release names and numbers never need escaping: write the literal parts in the style they need on their own.
    // Plain only when a literal leads: a release name alone could read as a number or a YAML 1.1 boolean.
    const sample = t.parts.map((p) => (typeof p === 'string' ? p : 'x0')).join('');
    if (typeof t.parts[0] === 'string' && isPlain(sample)) {
      return t.parts.map((p) => (typeof p === 'string' ? escapeActions(p) : action(p.expr, p.trim))).join('');
    }
    return `"${t.parts.map((p) => (typeof p === 'string' ? escapeActions(JSON.stringify(p).slice(1, -1)) : action(p.expr, p.trim))).join('')}"`;
  }
  // Values a user typed may hold quotes or backslashes: assemble the string in the template, then quote it there.
  const format = t.parts.map((p) => (typeof p === 'string' ? p.replace(/%/g, '%%') : '%v')).join('');
  const args = t.actions.map((a) => operand(a.expr)).join(' ');
  return action(`printf ${JSON.stringify(format)} ${args} | quote`);
}

function mergeLiterals(parts: readonly Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    if (typeof p === 'string' && typeof out[out.length - 1] === 'string') out[out.length - 1] = (out[out.length - 1] as string) + p;
    else if (p !== '') out.push(p);
  }
  return out;
}

/**
 * Parses the Go template text of a knob's `template` into literal parts and actions, so the writer can apply the
 * right quoting. Only whole `{{ … }}` actions are recognised; literal `{{` must not appear in knob templates.
 */
export function parseTemplate(text: string, substitute: (expr: string) => string): Part[] {
  const parts: Part[] = [];
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    parts.push(text.slice(last, m.index));
    const trim = m[1] || m[3] ? { left: m[1] === '-', right: m[3] === '-' } : undefined;
    parts.push({ expr: substitute(m[2]), safe: false, ...(trim ? { trim } : {}) });
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return mergeLiterals(parts);
}
