import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { SecretKeyRef } from './connections';
import { ValidationError } from './errors';
import { checkEnvName, checkObjectName } from './validate';

/** Directory under which wiring mounts Secrets as files (one sub-directory per Secret). */
export const SECRET_FILES_DIR = '/var/run/secrets/scalecharts';

/**
 * Secret keys mounted as read-only files into a workload's main container, for wiring's `credentials: 'files'`
 * (issue 18): `<NAME>_FILE` holds the path, the `*_FILE` convention of the official images. Nothing of the Secret
 * reaches the environment, `kubectl describe` or a crash dump of env.
 */
export class SecretFiles {
  private readonly byName = new Map<string, k8s.Volume & { secret: { items: k8s.KeyToPath[] } }>();

  /** `volumes` and `mounts` are the live arrays of the pod spec and main container. */
  constructor(private readonly scope: Construct, private readonly volumes: k8s.Volume[], private readonly mounts: k8s.VolumeMount[], private readonly env: k8s.EnvVar[]) {}

  /** Mounts `ref` and sets `<name>_FILE` to its path; returns the path. */
  public add(name: string, ref: SecretKeyRef): string {
    checkEnvName(this.scope, 'secretFiles', name);
    const secretName = checkObjectName(this.scope, `secretFiles.${name}.secretName`, ref.secretName);
    if (typeof ref.key !== 'string' || !/^[-._a-zA-Z0-9]+$/.test(ref.key)) {
      throw new ValidationError(this.scope, `secretFiles.${name}.key`, ref.key, 'must be a Secret key: letters, digits, "-", "_" and "."');
    }
    let volume = this.byName.get(secretName);
    if (!volume) {
      volume = { name: `secret-file-${this.byName.size}`, secret: { secretName, defaultMode: 0o440, items: [] } };
      this.byName.set(secretName, volume);
      this.volumes.push(volume);
      this.mounts.push({ name: volume.name, mountPath: `${SECRET_FILES_DIR}/${secretName}`, readOnly: true });
    }
    if (!volume.secret.items.some((i) => i.key === ref.key)) volume.secret.items.push({ key: ref.key, path: ref.key });
    const path = `${SECRET_FILES_DIR}/${secretName}/${ref.key}`;
    const envName = `${name}_FILE`;
    const existing = this.env.find((e) => e.name === envName || e.name === name);
    if (existing && !(existing.name === envName && existing.value === path)) {
      throw new ValidationError(this.scope, `secretFiles.${name}`, path, `conflicts with ${existing.name} already set on this workload`);
    }
    if (!existing) this.env.push({ name: envName, value: path });
    return path;
  }
}
