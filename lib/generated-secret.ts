import { Construct, IConstruct } from 'constructs';
import type { SecretKeyRef } from './connections';
import { ValidationError } from './errors';
import { checkInteger, checkObjectName } from './validate';

export interface GeneratedSecretProps {
  /** Name of the Secret. @default the construct id */
  readonly name?: string;
  /**
   * Keys holding random alphanumeric values, with their length.
   * A list of key names generates each with {@link GENERATED_SECRET_LENGTH} characters.
   */
  readonly keys: readonly string[] | Readonly<Record<string, number>>;
}

/** Length of a generated value: 32 alphanumerics ≈ 190 bits, beyond brute force for any password use. */
export const GENERATED_SECRET_LENGTH = 32;

const GENERATED = Symbol.for('scalecharts.GeneratedSecret');

/**
 * A Secret of random values that nobody should have to invent or commit.
 *
 * - In a Helm chart (`lib/helm/`), the chart generates it at install with `randAlphaNum` and keeps the values across
 *   upgrades (it reads the live Secret back with `lookup`); values.yaml never holds them. Users who manage the Secret
 *   themselves set `<values key>.existingSecret` and the chart references theirs instead.
 * - Plain manifests carry no Secret (a value in Git would be a leaked value): create it once per namespace with
 *   {@link GeneratedSecret.createCommand}, or with your secret manager (External Secrets, Sealed Secrets).
 *
 * Consumers reference it like any Secret, through {@link GeneratedSecret.ref}.
 */
export class GeneratedSecret extends Construct {
  public static isGeneratedSecret(x: unknown): x is GeneratedSecret {
    return typeof x === 'object' && x !== null && GENERATED in x;
  }

  /** Every GeneratedSecret under `scope`, in construct-tree order. */
  public static allUnder(scope: IConstruct): GeneratedSecret[] {
    return scope.node.findAll().filter(GeneratedSecret.isGeneratedSecret);
  }

  /** Name of the Secret. */
  public readonly name: string;
  /** Generated keys and their lengths. */
  public readonly keys: Readonly<Record<string, number>>;

  constructor(scope: Construct, id: string, props: GeneratedSecretProps) {
    super(scope, id);
    Object.defineProperty(this, GENERATED, { value: true });
    this.name = checkObjectName(this, 'name', props.name ?? id);
    const entries: Array<[string, number]> = Array.isArray(props.keys)
      ? (props.keys as readonly string[]).map((k) => [k, GENERATED_SECRET_LENGTH])
      : Object.entries(props.keys as Record<string, number>);
    if (entries.length === 0) throw new ValidationError(this, 'keys', props.keys, 'must name at least one key');
    const keys: Record<string, number> = {};
    for (const [key, length] of entries) {
      if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) {
        throw new ValidationError(this, 'keys', key, "must be Secret keys: letters, digits, '-', '_' and '.'");
      }
      keys[key] = checkInteger(this, `keys.${key}`, length, { min: 16, max: 256 });
    }
    this.keys = keys;
  }

  /** A reference to one generated key, for `secretEnv` and connection infos. */
  public ref(key: string): SecretKeyRef {
    if (!(key in this.keys)) throw new ValidationError(this, 'ref', key, `is not a generated key; generated keys: ${Object.keys(this.keys).join(', ')}`);
    return { secretName: this.name, key };
  }

  /** Shell command that creates the Secret with random values, for plain-manifest deployments. */
  public createCommand(namespace?: string): string {
    const literals = Object.entries(this.keys)
      .map(([key, length]) => `--from-literal=${key}="$(head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' | head -c ${length})"`);
    return ['kubectl', 'create', 'secret', 'generic', this.name, ...(namespace ? ['-n', namespace] : []), ...literals].join(' ');
  }
}

/**
 * The default credential of a construct that needs a password nobody passed: a {@link GeneratedSecret} `name` with
 * the key `password`, so each Helm release gets its own (`<release>-<name>`, `existingSecret` to bring your own) and
 * plain manifests list it among the Secrets to create ({@link secretsToCreate}).
 */
export function generatedPassword(scope: Construct, id: string, name: string): SecretKeyRef {
  return new GeneratedSecret(scope, id, { name, keys: ['password'] }).ref('password');
}
