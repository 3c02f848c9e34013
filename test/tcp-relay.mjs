// TCP relays in their own process, so a test blocked in spawnSync never stalls the bytes they carry.
// Commands on stdin, one JSON per line; answers on stdout:
//   {"op":"listen","name":"rw","host":"127.0.15.20"}          -> {"name":"rw","port":40123}
//   {"op":"target","name":"rw","host":"127.0.15.1","port":5432} (host null: refuse new connections)
//   {"op":"cut","name":"rw","cut":true}                        drop open connections; refuse new ones while cut
import { createServer, connect } from 'net';
import { createInterface } from 'readline';

const relays = new Map();
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'listen') {
    const relay = { target: null, cut: false, sockets: new Set() };
    relay.server = createServer((client) => {
      if (relay.cut || !relay.target) { client.destroy(); return; }
      const upstream = connect(relay.target.port, relay.target.host);
      for (const [a, b] of [[client, upstream], [upstream, client]]) {
        relay.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => { relay.sockets.delete(a); b.destroy(); });
        a.pipe(b);
      }
    });
    relay.server.listen(0, cmd.host, () => {
      relays.set(cmd.name, relay);
      process.stdout.write(`${JSON.stringify({ name: cmd.name, port: relay.server.address().port })}\n`);
    });
  } else if (cmd.op === 'target') {
    relays.get(cmd.name).target = cmd.host ? { host: cmd.host, port: cmd.port } : null;
  } else if (cmd.op === 'cut') {
    const relay = relays.get(cmd.name);
    relay.cut = cmd.cut;
    if (cmd.cut) for (const s of relay.sockets) s.destroy();
  }
});
process.stdin.on('end', () => process.exit(0));
