import { k8s } from 'cdk8s-plus-28';
import { EPHEMERAL_STORAGE } from './defaults';
import { MIB } from './validate';

/**
 * Ephemeral-storage requests and limits for every container of a pod spec (issue 18), sized from what the kubelet
 * counts against them: the container's logs and writable layer (EPHEMERAL_STORAGE in lib/defaults.ts) and the
 * disk-backed emptyDirs it mounts. A container that already names its ephemeral storage (a construct's
 * `resources.*.ephemeralStorage`, or a sidecar's own resources) keeps it.
 *
 * The kubelet evicts a pod when all its containers and emptyDirs together use more than the sum of the container
 * limits; so each disk-backed emptyDir's sizeLimit is added once, to the first container that mounts it (and to
 * every init container that mounts it: they run one at a time).
 * Memory-backed emptyDirs count against memory, not here.
 */
export function withEphemeralStorage(spec: k8s.PodSpec): k8s.PodSpec {
  const diskVolumes = new Map<string, number>();
  for (const v of spec.volumes ?? []) {
    if (v.emptyDir && v.emptyDir.medium !== 'Memory') {
      diskVolumes.set(v.name, v.emptyDir.sizeLimit ? quantityMiB(v.emptyDir.sizeLimit) : quantityMiB(EPHEMERAL_STORAGE.unsizedEmptyDir));
    }
  }
  // Init containers run one at a time, so each one's limit covers all it mounts; the regular containers share theirs.
  const size = (counted: Set<string>) => (c: k8s.Container): k8s.Container => {
    let emptyDirMiB = 0;
    for (const m of c.volumeMounts ?? []) {
      const mib = diskVolumes.get(m.name);
      if (mib !== undefined && !counted.has(m.name)) {
        counted.add(m.name);
        emptyDirMiB += mib;
      }
    }
    const requests = { ...c.resources?.requests };
    const limits = { ...c.resources?.limits };
    if (!requests['ephemeral-storage']) requests['ephemeral-storage'] = k8s.Quantity.fromString(EPHEMERAL_STORAGE.request);
    if (!limits['ephemeral-storage']) {
      const base = quantityMiB(k8s.Quantity.fromString(EPHEMERAL_STORAGE.limit));
      // A request given above the default limit raises the limit with it.
      const floor = quantityMiB(requests['ephemeral-storage']);
      limits['ephemeral-storage'] = k8s.Quantity.fromString(`${Math.max(base, floor) + emptyDirMiB}Mi`);
    }
    return { ...c, resources: { ...c.resources, requests, limits } };
  };
  return {
    ...spec,
    ...(spec.initContainers ? { initContainers: spec.initContainers.map((c) => size(new Set())(c)) } : {}),
    containers: spec.containers.map(size(new Set())),
  };
}

const FACTORS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: MIB, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A memory-style quantity in MiB, rounded up (our own quantities are always binary-suffixed). */
function quantityMiB(q: k8s.Quantity | string): number {
  const text = typeof q === 'string' ? q : String(q.value);
  const m = /^([0-9.]+)([KMGT]i?|k)?$/.exec(text);
  if (!m) throw new Error(`unexpected quantity ${text}`);
  return Math.ceil((Number(m[1]) * FACTORS[m[2] ?? '']) / MIB);
}
