import { App, Chart } from 'cdk8s';
import { RpcPool, StatelessService } from '../lib';

/**
 * Blockchain access for IDA (seed 000, "Blockchain RPC"): three JSON-RPC upstreams behind one in-cluster pool, the
 * keyed one read from a Secret, and an indexer that keeps the off-chain cache fresh over a WebSocket subscription.
 *
 * Create the Secret before installing (the URL holds the provider's API key):
 *   kubectl -n chain create secret generic eth-rpc-urls \
 *     --from-literal=alchemy="https://eth-mainnet.g.alchemy.com/v2/$ALCHEMY_KEY" \
 *     --from-literal=alchemy-ws="wss://eth-mainnet.g.alchemy.com/v2/$ALCHEMY_KEY"
 */
export function chain(app: App): Chart {
  const chart = new Chart(app, 'chain', { namespace: 'chain' });
  const rpc = new RpcPool(chart, 'eth-rpc', {
    upstreams: [
      { name: 'alchemy', urlSecret: { secretName: 'eth-rpc-urls', key: 'alchemy' }, wsUrlSecret: { secretName: 'eth-rpc-urls', key: 'alchemy-ws' }, weight: 2 },
      { name: 'publicnode', url: 'https://ethereum-rpc.publicnode.com', wsUrl: 'wss://ethereum-rpc.publicnode.com' },
      { name: 'drpc', url: 'https://eth.drpc.org' },
    ],
    monitoring: { gasPrice: { metric: 'eth_gas_price_wei{chain="mainnet"}' } },
  });
  const indexer = new StatelessService(chart, 'did-indexer', {
    image: 'ghcr.io/example/ida-did-indexer:3.1.0',
    appMode: 'worker',
    autoscaling: false,
    replicas: 2,
    env: {
      CHAIN_RPC_URL: rpc.connection.httpUrl,
      ...(rpc.connection.wsUrl ? { CHAIN_WS_URL: rpc.connection.wsUrl } : {}),
    },
  });
  // Its own variable names, so not connectRpc: let it through the proxy's NetworkPolicy by hand.
  rpc.allowClient(indexer.selector);
  return chart;
}
