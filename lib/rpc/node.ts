import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { createPdb } from '../disruption';
import { withEphemeralStorage } from '../ephemeral-storage';
import { TMP_MOUNT, TMP_VOLUME, containerSecurityContext, podSecurityContext, presetPlacement, toResourceRequirements } from '../pod';
import type { Preset } from '../presets';
import { nodeNetworkPolicy } from './network-policy';
import type { ResolvedRpcNode } from './resolve';
import type { SelfHostedNodeObjects } from './rpc-pool';

/** Renders the self-hosted node of a resolved RpcPool: Service, StatefulSet (one pod), PDB and, optionally, its policy. */
export function renderRpcNode(
  scope: Construct, node: ResolvedRpcNode, preset: Preset, policy: { proxySelector: Record<string, string> } | undefined,
): SelfHostedNodeObjects {
  const { name, labels, selector } = node;
  const http = k8s.IntOrString.fromString('http');
  const ports: k8s.ContainerPort[] = [{ name: 'http', containerPort: node.httpPort, protocol: 'TCP' }];
  if (node.wsPort) ports.push({ name: 'ws', containerPort: node.wsPort, protocol: 'TCP' });

  const service = new k8s.KubeService(scope, 'node-service', {
    metadata: { name, labels },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: ports.map((p) => ({ name: p.name, port: p.containerPort, targetPort: k8s.IntOrString.fromString(p.name!), protocol: 'TCP' })),
    },
  });
  const podAnnotations = { ...preset.podAnnotations };
  const statefulSet = new k8s.KubeStatefulSet(scope, 'node', {
    metadata: { name, labels },
    spec: {
      serviceName: name,
      // One pod: two nodes behind one Service could answer the same call from different block heights.
      replicas: 1,
      selector: { matchLabels: selector },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: {
        metadata: { labels, ...(Object.keys(podAnnotations).length ? { annotations: podAnnotations } : {}) },
        spec: withEphemeralStorage({
          automountServiceAccountToken: false,
          securityContext: podSecurityContext({ runAsUser: node.runAsUser }),
          // Clients flush their database on shutdown; a kill mid-write can cost a long resync.
          terminationGracePeriodSeconds: 300,
          containers: [{
            name: 'node',
            image: node.image,
            imagePullPolicy: 'IfNotPresent',
            ...(node.command ? { command: [...node.command] } : {}),
            ...(node.args ? { args: [...node.args] } : {}),
            ports,
            resources: toResourceRequirements(node.resources),
            securityContext: containerSecurityContext(true),
            readinessProbe: node.readinessProbe ?? { tcpSocket: { port: http }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
            livenessProbe: { tcpSocket: { port: http }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
            startupProbe: { tcpSocket: { port: http }, periodSeconds: 10, failureThreshold: Math.ceil(node.startupTimeoutSeconds / 10) },
            volumeMounts: [{ name: 'data', mountPath: node.dataPath }, TMP_MOUNT],
          }],
          volumes: [TMP_VOLUME],
          ...presetPlacement(preset),
        }),
      },
      volumeClaimTemplates: [{
        metadata: { name: 'data' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          ...(node.storageClassName ? { storageClassName: node.storageClassName } : {}),
          resources: { requests: { storage: k8s.Quantity.fromString(node.storage) } },
        },
      }],
    },
  });
  const pdb = createPdb(scope, 'node-pdb', { name, labels, selector });
  const networkPolicy = policy
    ? nodeNetworkPolicy(scope, { name, labels, selector, proxySelector: policy.proxySelector, ports: ports.map((p) => p.containerPort) })
    : undefined;
  return { statefulSet, service, pdb, ...(networkPolicy ? { networkPolicy } : {}) };
}
