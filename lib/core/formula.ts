/**
 * Arithmetic written once as data, evaluated two ways: in TypeScript at synth (`evaluate`) and as a Go template
 * pipeline in a Helm chart (`goTemplate`), so a value a construct derives (Postgres' shared_buffers from its memory,
 * PgBouncer's pool sizes from max_connections) follows the chart's values by the very same formula.
 * JavaScript computes in binary float64; sprig's `addf`…`divf` compute in decimal and return a float64 (`floor`,
 * `ceil`, `minf`, `maxf` are float64). The two agree wherever a result that is mathematically whole comes out whole in
 * float64 too, and no other result lies within rounding error of a whole number, which holds for the formulas here
 * (whole inputs, ratios 0.1 / 0.25 / 0.75, divisions by small integers). test/helm-derived.test.ts checks the pool
 * formulas in TypeScript against the exact integer rule at every max_connections the constructs accept, and helm
 * against TypeScript at every max_connections up to 1000 and a sweep to 10,000.
 */

export type Formula =
  | number
  /** A variable, bound by the caller. */
  | string
  | { readonly op: 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max'; readonly args: readonly [Formula, Formula] }
  | { readonly op: 'floor' | 'ceil'; readonly args: readonly [Formula] }
  /** The variable when it is given (bound and not null), else the fallback: a value the user may pin or leave derived. */
  | { readonly op: 'given'; readonly args: readonly [string, Formula] };

/** Variable values: a variable read by `given` may be null or absent (not pinned). */
export type FormulaVars = Readonly<Record<string, number | null | undefined>>;

export const formula = {
  add: (a: Formula, b: Formula): Formula => ({ op: 'add', args: [a, b] }),
  sub: (a: Formula, b: Formula): Formula => ({ op: 'sub', args: [a, b] }),
  mul: (a: Formula, b: Formula): Formula => ({ op: 'mul', args: [a, b] }),
  div: (a: Formula, b: Formula): Formula => ({ op: 'div', args: [a, b] }),
  min: (a: Formula, b: Formula): Formula => ({ op: 'min', args: [a, b] }),
  max: (a: Formula, b: Formula): Formula => ({ op: 'max', args: [a, b] }),
  floor: (a: Formula): Formula => ({ op: 'floor', args: [a] }),
  ceil: (a: Formula): Formula => ({ op: 'ceil', args: [a] }),
  given: (variable: string, fallback: Formula): Formula => ({ op: 'given', args: [variable, fallback] }),
};

/** The formula's value for numeric variables. */
export function evaluate(f: Formula, vars: FormulaVars): number {
  if (typeof f === 'number') return f;
  if (typeof f === 'string') {
    const v = vars[f];
    if (v === undefined || v === null) throw new Error(`formula: variable ${f} is not bound`);
    return v;
  }
  if (f.op === 'given') {
    const v = vars[f.args[0]];
    return v === undefined || v === null ? evaluate(f.args[1], vars) : v;
  }
  const [a, b] = f.args.map((x) => evaluate(x, vars));
  switch (f.op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
    case 'floor': return Math.floor(a);
    case 'ceil': return Math.ceil(a);
  }
}

const GO_OPS = { add: 'addf', sub: 'subf', mul: 'mulf', div: 'divf', min: 'minf', max: 'maxf', floor: 'floor', ceil: 'ceil' } as const;

/** A Go template (sprig) pipeline computing the formula as a float64; variables map to Go expressions. */
export function goTemplate(f: Formula, vars: Readonly<Record<string, string>>): string {
  if (typeof f === 'number') {
    if (!Number.isFinite(f)) throw new Error(`formula: ${f} is not a finite number`);
    return Number.isInteger(f) ? `${f}.0` : String(f);
  }
  if (typeof f === 'string') {
    const v = vars[f];
    if (v === undefined) throw new Error(`formula: variable ${f} is not bound`);
    return `(float64 ${v})`;
  }
  if (f.op === 'given') {
    const v = vars[f.args[0]];
    if (v === undefined) throw new Error(`formula: variable ${f.args[0]} is not bound`);
    // null or a missing key (`--set x=null` deletes it) is kind "invalid"; ternary evaluates both branches, and
    // `float64` of nil is 0, so the unused one is harmless.
    return `(ternary ${goTemplate(f.args[1], vars)} (float64 ${v}) (kindIs "invalid" ${v}))`;
  }
  return `(${GO_OPS[f.op]} ${f.args.map((x) => goTemplate(x, vars)).join(' ')})`;
}

/** Binary and decimal suffixes of Kubernetes memory quantities, as multipliers. */
const QUANTITY_UNITS: ReadonlyArray<[string, string]> = [
  ['', '1.0'], ['k', '1000.0'], ['M', '1000000.0'], ['G', '1000000000.0'], ['T', '1000000000000.0'], ['P', '1000000000000000.0'],
  ['Ki', '1024.0'], ['Mi', '1048576.0'], ['Gi', '1073741824.0'], ['Ti', '1099511627776.0'], ['Pi', '1125899906842624.0'],
];

/**
 * A Go template pipeline giving the bytes of a Kubernetes quantity value (`512Mi`, `2Gi`, `1G`, or a number from
 * `--set`), self-contained so knob templates need no chart helper.
 */
export function goQuantityBytes(expr: string): string {
  const units = QUANTITY_UNITS.map(([u, m]) => `${JSON.stringify(u)} ${m}`).join(' ');
  return `(mulf (regexReplaceAll "[A-Za-z]+$" (toString ${expr}) "" | float64) (get (dict ${units}) (regexFind "[A-Za-z]+$" (toString ${expr}))))`;
}
