// The link host: a process of its own that runs the fault proxies of one topology's links
// (proxy-core.mjs), so that the bytes between the app and its databases never wait for
// dbproof's event loop (a suite's load, a results file being written). Started and
// steered by link-host.ts.
//
// Plain JavaScript on purpose: bare `node` starts it in tens of ms, with no TypeScript loader.
//
// Protocol. argv[2]: JSON `{"proxies":[{"host":"127.0.0.1","port":5432,"seed":1},…]}`.
// Messages on the IPC channel (child_process.fork), applied in the order they come:
//   parent → host  {"op":"add","proxy":i,"toxic":{…named}}  {"op":"remove","proxy":i,"name":"…"}
//                  {"op":"reset","proxy":i}  {"op":"retarget","proxy":i,"upstream":{"host":"…","port":n}}
//                  {"op":"close","proxy":i}  (one proxy)  {"op":"exit"}  (every proxy, then the host)
//                  {"op":"sync","seq":n}  → answered once everything before it is applied (the counts first)
//   host → parent  {"ready":[port,…]}  once, when every proxy listens
//                  {"synced":n}
//                  {"connections":{"<i>":open,…}}  open client connections, whenever they change
// IPC sends are asynchronous on both sides: a busy parent never blocks the host (stdout to
// a pipe would: it is synchronous on Linux).
//
// The host ends with its parent, however the parent ends (even SIGKILL): its stdin is a pipe
// from the parent and its IPC channel a socket, and the kernel closes both.
import { startProxyCore } from './proxy-core.mjs';

const exitWithParent = () => process.exit(1);
process.stdin.on('end', exitWithParent);
process.stdin.on('error', exitWithParent);
process.stdin.resume();
process.on('disconnect', exitWithParent);
// A Ctrl-C reaches the whole process group: the links stay until dbproof itself is gone
// (then stdin closes), so that its clean-up still finds them.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

const send = (message) => {
  if (process.connected) process.send(message);
};

let spec;
try {
  spec = JSON.parse(process.argv[2] ?? '');
  if (!Array.isArray(spec.proxies)) throw new Error('no proxies');
} catch (error) {
  process.stderr.write(`the link host needs its proxies as JSON in argv[2]: ${error.message}\n`);
  process.exit(2);
}

/** Counts changed since the last report, sent together once per turn of the event loop. */
const changed = new Map();
let reporting = false;
const report = () => {
  reporting = false;
  if (changed.size === 0) return;
  send({ connections: Object.fromEntries(changed) });
  changed.clear();
};

let proxies;
try {
  proxies = await Promise.all(
    spec.proxies.map((upstream, i) =>
      startProxyCore(upstream, {
        seed: upstream.seed,
        onConnections: (open) => {
          changed.set(i, open);
          if (!reporting) {
            reporting = true;
            setImmediate(report);
          }
        },
      }),
    ),
  );
} catch (error) {
  process.stderr.write(`the link host could not listen on 127.0.0.1: ${error.message}\n`);
  process.exit(2);
}

const open = new Set(proxies.keys());
const exit = async () => {
  await Promise.all([...open].map((i) => proxies[i].close()));
  process.exit(0);
};

const apply = async (message) => {
  const proxy = proxies[message.proxy];
  switch (message.op) {
    case 'add':
      proxy?.add(message.toxic);
      break;
    case 'remove':
      proxy?.remove(message.name);
      break;
    case 'reset':
      proxy?.reset();
      break;
    case 'retarget':
      proxy?.retarget(message.upstream);
      break;
    case 'close':
      if (open.delete(message.proxy)) await proxy.close();
      break;
    case 'sync':
      report(); // the counts as they are now, before the answer
      send({ synced: message.seq });
      break;
    case 'exit':
      await exit();
      break;
  }
};
// One at a time, in order: a `sync` is answered only after whatever came before it is done.
let applying = Promise.resolve();
process.on('message', (message) => {
  applying = applying
    .then(() => apply(message))
    .catch((error) => {
      process.stderr.write(`the link host failed on ${message.op}: ${error?.message ?? error}\n`);
      process.exit(70);
    });
});

send({ ready: proxies.map((p) => p.port) });
