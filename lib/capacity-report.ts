import { Chart } from 'cdk8s';

/**
 * Capacity report of a chart, read off the synthesized objects (so it describes exactly what would be applied,
 * whichever construct or hand-written object produced it): replicas, CPU and memory at the minimum and maximum
 * replica count, storage and database connections at the maximum.
 */
export interface WorkloadCapacity {
  /** `Kind/name`. */
  readonly workload: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Per pod: the sum over the pod's containers, in millicores and bytes. */
  readonly perPod: { readonly cpuRequest: number; readonly memoryRequest: number; readonly cpuLimit: number; readonly memoryLimit: number };
  /** Persistent storage per pod (StatefulSet volume claim templates), bytes. */
  readonly storagePerPod: number;
  /** Database connections per pod (`DB_MAX_CONNECTIONS` + `DB_READ_MAX_CONNECTIONS`). */
  readonly dbConnectionsPerPod: number;
}

export interface CapacityTotals {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpuRequestAtMin: number;
  readonly cpuRequestAtMax: number;
  readonly memoryRequestAtMin: number;
  readonly memoryRequestAtMax: number;
  readonly cpuLimitAtMax: number;
  readonly memoryLimitAtMax: number;
  readonly storage: number;
  readonly dbConnectionsAtMax: number;
}

export interface CapacityReport {
  readonly workloads: readonly WorkloadCapacity[];
  readonly totals: CapacityTotals;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet']);

/** Builds the report from a chart's synthesized objects (`chart.toJson()`). */
export function capacityReport(objects: readonly Obj[]): CapacityReport {
  const scalers = new Map<string, { min: number; max: number }>();
  for (const o of objects) {
    if (o.kind === 'HorizontalPodAutoscaler') {
      const ref = o.spec.scaleTargetRef;
      scalers.set(`${ref.kind}/${ref.name}`, { min: o.spec.minReplicas ?? 1, max: o.spec.maxReplicas });
    } else if (o.kind === 'ScaledObject' && o.apiVersion.startsWith('keda.sh/')) {
      const ref = o.spec.scaleTargetRef;
      scalers.set(`${ref.kind ?? 'Deployment'}/${ref.name}`, { min: o.spec.minReplicaCount ?? 0, max: o.spec.maxReplicaCount ?? 100 });
    }
  }
  const workloads = objects.filter((o) => WORKLOAD_KINDS.has(o.kind)).map((o): WorkloadCapacity => {
    const key = `${o.kind}/${o.metadata.name}`;
    const fixed = o.spec.replicas ?? 1;
    const scale = scalers.get(key) ?? { min: fixed, max: fixed };
    const containers: Obj[] = o.spec.template.spec.containers ?? [];
    const sum = (pick: (c: Obj) => number) => containers.reduce((acc, c) => acc + pick(c), 0);
    const storagePerPod = (o.spec.volumeClaimTemplates ?? [])
      .reduce((acc: number, t: Obj) => acc + quantity(t.spec?.resources?.requests?.storage), 0);
    const dbConnectionsPerPod = sum((c) => (c.env ?? [])
      .filter((e: Obj) => e.name === 'DB_MAX_CONNECTIONS' || e.name === 'DB_READ_MAX_CONNECTIONS')
      .reduce((acc: number, e: Obj) => acc + (Number(e.value) || 0), 0));
    return {
      workload: key,
      minReplicas: scale.min,
      maxReplicas: scale.max,
      perPod: {
        cpuRequest: sum((c) => cpu(c.resources?.requests?.cpu)),
        memoryRequest: sum((c) => quantity(c.resources?.requests?.memory)),
        cpuLimit: sum((c) => cpu(c.resources?.limits?.cpu)),
        memoryLimit: sum((c) => quantity(c.resources?.limits?.memory)),
      },
      storagePerPod,
      dbConnectionsPerPod,
    };
  });
  const total = (pick: (w: WorkloadCapacity) => number) => workloads.reduce((acc, w) => acc + pick(w), 0);
  return {
    workloads,
    totals: {
      minReplicas: total((w) => w.minReplicas),
      maxReplicas: total((w) => w.maxReplicas),
      cpuRequestAtMin: total((w) => w.perPod.cpuRequest * w.minReplicas),
      cpuRequestAtMax: total((w) => w.perPod.cpuRequest * w.maxReplicas),
      memoryRequestAtMin: total((w) => w.perPod.memoryRequest * w.minReplicas),
      memoryRequestAtMax: total((w) => w.perPod.memoryRequest * w.maxReplicas),
      cpuLimitAtMax: total((w) => w.perPod.cpuLimit * w.maxReplicas),
      memoryLimitAtMax: total((w) => w.perPod.memoryLimit * w.maxReplicas),
      // StatefulSets keep a volume per ordinal up to the highest count they ran at.
      storage: total((w) => w.storagePerPod * w.maxReplicas),
      dbConnectionsAtMax: total((w) => w.dbConnectionsPerPod * w.maxReplicas),
    },
  };
}

/** The report of one cdk8s Chart. */
export function chartCapacityReport(chart: Chart): CapacityReport {
  return capacityReport(chart.toJson());
}

/** Markdown: one row per workload, then the totals. */
export function renderCapacityMarkdown(title: string, report: CapacityReport): string {
  const header = '| workload | replicas min–max | CPU request at min / max | memory request at min / max | CPU limit at max | memory limit at max | storage | DB connections at max |';
  const rule = '|---|---|---|---|---|---|---|---|';
  const row = (w: WorkloadCapacity) => [
    w.workload, `${w.minReplicas}–${w.maxReplicas}`,
    `${formatCpu(w.perPod.cpuRequest * w.minReplicas)} / ${formatCpu(w.perPod.cpuRequest * w.maxReplicas)}`,
    `${formatBytes(w.perPod.memoryRequest * w.minReplicas)} / ${formatBytes(w.perPod.memoryRequest * w.maxReplicas)}`,
    formatCpu(w.perPod.cpuLimit * w.maxReplicas), formatBytes(w.perPod.memoryLimit * w.maxReplicas),
    w.storagePerPod ? formatBytes(w.storagePerPod * w.maxReplicas) : '–',
    w.dbConnectionsPerPod ? String(w.dbConnectionsPerPod * w.maxReplicas) : '–',
  ];
  const t = report.totals;
  const totals = [
    '**total**', `${t.minReplicas}–${t.maxReplicas}`,
    `${formatCpu(t.cpuRequestAtMin)} / ${formatCpu(t.cpuRequestAtMax)}`,
    `${formatBytes(t.memoryRequestAtMin)} / ${formatBytes(t.memoryRequestAtMax)}`,
    formatCpu(t.cpuLimitAtMax), formatBytes(t.memoryLimitAtMax),
    t.storage ? formatBytes(t.storage) : '–', t.dbConnectionsAtMax ? String(t.dbConnectionsAtMax) : '–',
  ];
  const lines = [header, rule, ...report.workloads.map(row), totals].map((cells) => (Array.isArray(cells) ? `| ${cells.join(' | ')} |` : cells));
  return `# Capacity: ${title}\n\nPer pod figures are the sum over the pod's containers; "at max" counts every workload at its HPA/KEDA ceiling.\n\n${lines.join('\n')}\n`;
}

/** A short plain-text table for the synth log. */
export function renderCapacitySummary(title: string, report: CapacityReport): string {
  const t = report.totals;
  return `${title}: ${report.workloads.length} workloads, ${t.minReplicas}–${t.maxReplicas} pods, `
    + `CPU requests ${formatCpu(t.cpuRequestAtMin)}–${formatCpu(t.cpuRequestAtMax)}, `
    + `memory requests ${formatBytes(t.memoryRequestAtMin)}–${formatBytes(t.memoryRequestAtMax)}, `
    + `storage ${formatBytes(t.storage)}, DB connections at max ${t.dbConnectionsAtMax}`;
}

function cpu(value: unknown): number {
  if (value === undefined || value === null) return 0;
  const s = String(value);
  return s.endsWith('m') ? Number(s.slice(0, -1)) : Number(s) * 1000;
}

const FACTORS: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15,
};

function quantity(value: unknown): number {
  if (value === undefined || value === null) return 0;
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(String(value));
  if (!m) return 0;
  return Number(m[1]) * (m[2] ? FACTORS[m[2]] ?? 1 : 1);
}

export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? `${millicores / 1000}` : `${(millicores / 1000).toFixed(1).replace(/\.0$/, '')}`;
}

export function formatBytes(bytes: number): string {
  if (bytes === 0) return '0';
  const units: Array<[string, number]> = [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
  for (const [unit, size] of units) {
    if (bytes >= size) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)}${unit}`;
    }
  }
  return `${bytes}B`;
}
