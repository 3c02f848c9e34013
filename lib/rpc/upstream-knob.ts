import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { userSecretNameExpr } from '../helm/names';
import { KnobSchema, KnobTarget, Knobs } from '../knobs';

/** One configured upstream as the chart value shows it (the self-hosted node is derived, not listed). */
export interface UpstreamValue {
  readonly name: string;
  readonly weight: number;
  readonly url?: string;
  readonly urlSecret?: { readonly secretName: string; readonly key: string };
  readonly wsUrl?: string;
  readonly wsUrlSecret?: { readonly secretName: string; readonly key: string };
}

const SECRET_REF: KnobSchema = {
  type: 'object',
  properties: {
    secretName: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 },
    key: { type: 'string', pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 },
  },
  required: ['secretName', 'key'],
};

/**
 * The `upstreams` chart value: the configured upstreams (name, weight, plain URL or Secret key per entry), each entry
 * templated into the proxy's env and the projected volume of URL files. The list keeps its length and each entry its
 * kind (a plain URL stays plain, a Secret key stays a Secret key): the Deployment's env and volume are laid out at
 * synth. Keyed URLs still come only from Secrets; the entrypoint re-checks every entry when the pod starts.
 */
export function declareUpstreamsKnob(scope: Construct, deployment: ApiObject, upstreams: readonly UpstreamValue[]): void {
  if (upstreams.length === 0) return;
  const json = deployment.toJson();
  const env = (json.spec.template.spec.containers[0].env ?? []) as Array<{ name: string }>;
  const volumes = (json.spec.template.spec.volumes ?? []) as Array<{ name: string; projected?: { sources: Array<{ secret: { items: Array<{ path: string }> } }> } }>;
  const envPath = (name: string): Array<string | number> | undefined => {
    const at = env.findIndex((e) => e.name === name);
    return at < 0 ? undefined : ['spec', 'template', 'spec', 'containers', 0, 'env', at, 'value'];
  };
  const urlVolume = volumes.findIndex((v) => v.name === 'rpc-urls');
  const sourcePath = (file: string): Array<string | number> | undefined => {
    if (urlVolume < 0) return undefined;
    const at = volumes[urlVolume].projected!.sources.findIndex((s) => s.secret.items[0].path === file);
    return at < 0 ? undefined : ['spec', 'template', 'spec', 'volumes', urlVolume, 'projected', 'sources', at, 'secret'];
  };

  const targets: KnobTarget[] = [];
  const add = (path: Array<string | number> | undefined, template: string): void => {
    if (path) targets.push({ object: deployment, path, template });
  };
  upstreams.forEach((u, index) => {
    const i = index + 1;
    const entry = `(index $values.upstreams ${index})`;
    add(envPath(`RPC_UPSTREAM_${i}_NAME`), `{{ ${entry}.name }}`);
    add(envPath(`RPC_UPSTREAM_${i}_WEIGHT`), `{{ ${entry}.weight }}`);
    for (const [field, suffix, file] of [['url', 'URL', 'http'], ['wsUrl', 'WS_URL', 'ws']] as const) {
      const secretField = `${field}Secret` as const;
      if (u[field] !== undefined) {
        add(envPath(`RPC_UPSTREAM_${i}_${suffix}`), `{{ required "upstreams[${index}].${field}: this entry takes a plain URL" ${entry}.${field} }}`);
      } else if (u[secretField] !== undefined) {
        const at = sourcePath(`upstream-${i}-${file}`);
        if (at) {
          // The synthesized name is the user's Secret of the plain manifests: in a chart it becomes `<release>-<name>`
          // (or userSecrets.<key>.name), so two releases never share provider keys; any other name is used as given.
          const synthesized = u[secretField]!.secretName;
          const given = `(required "upstreams[${index}].${secretField}.secretName: this entry takes a Secret key" ${entry}.${secretField}.secretName)`;
          add([...at, 'name'], `{{ ternary ${userSecretNameExpr(synthesized)} ${given} (eq ${given} ${JSON.stringify(synthesized)}) }}`);
          add([...at, 'items', 0, 'key'], `{{ required "upstreams[${index}].${secretField}.key: this entry takes a Secret key" ${entry}.${secretField}.key }}`);
        }
      }
    }
  });

  Knobs.declare(scope, {
    key: 'upstreams',
    description: 'JSON-RPC upstreams: name, weight (1-100), and url or urlSecret {secretName, key} (wsUrl / wsUrlSecret for WebSocket) as synthesized; the list keeps its length and each entry its kind',
    schema: {
      type: 'array',
      minItems: upstreams.length,
      maxItems: upstreams.length,
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' },
          weight: { type: 'integer', minimum: 1, maximum: 100 },
          url: { type: 'string', pattern: '^https?://[^\\s"\'$#{}]+$' },
          urlSecret: SECRET_REF,
          wsUrl: { type: 'string', pattern: '^wss?://[^\\s"\'$#{}]+$' },
          wsUrlSecret: SECRET_REF,
        },
        required: ['name', 'weight'],
      },
    },
    default: upstreams.map((u) => ({ ...u })),
    // Every field of every entry changed (the chart tests check each target moves).
    example: upstreams.map(alternative),
    targets,
  });
}

function alternative(u: UpstreamValue): UpstreamValue {
  const ref = (r: { secretName: string; key: string }): { secretName: string; key: string } => ({ secretName: `${r.secretName.slice(0, 240)}-alt`, key: `${r.key.slice(0, 240)}-alt` });
  const url = (x: string): string => `${x.replace(/\/$/, '')}/alt`;
  return {
    name: `${u.name.slice(0, 28)}-alt`,
    weight: u.weight < 100 ? u.weight + 1 : 99,
    ...(u.url !== undefined ? { url: url(u.url) } : {}),
    ...(u.urlSecret !== undefined ? { urlSecret: ref(u.urlSecret) } : {}),
    ...(u.wsUrl !== undefined ? { wsUrl: url(u.wsUrl) } : {}),
    ...(u.wsUrlSecret !== undefined ? { wsUrlSecret: ref(u.wsUrlSecret) } : {}),
  };
}
