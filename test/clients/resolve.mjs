// Checks, from inside an instance, that every instance name and every group name resolves on the
// data network to what TGC_PEERS says (`name=ip,…`), then reports the outcome.
import { lookup } from 'node:dns/promises';
import { run } from '../../dist/runtime/sdk.mjs';

await run(async (env) => {
  const peers = (process.env.TGC_PEERS ?? '').split(',').map((p) => p.split('='));
  if (peers.length !== env.instances)
    throw new Error(`TGC_PEERS has ${peers.length} entries: ${process.env.TGC_PEERS}`);
  const groups = new Map();
  for (const [name, ip] of peers) {
    const got = (await lookup(name, { family: 4 })).address;
    if (got !== ip) throw new Error(`${name} resolves to ${got}, not ${ip}`);
    const group = name.replace(/-\d+$/, '');
    groups.set(group, [...(groups.get(group) ?? []), ip]);
  }
  for (const [group, ips] of groups) {
    const got = (await lookup(group, { family: 4, all: true })).map((a) => a.address).sort();
    if (got.join(' ') !== [...ips].sort().join(' ')) throw new Error(`${group} resolves to ${got}, not ${ips}`);
  }
  env.message(`resolved ${peers.length} names and ${groups.size} groups`);
});
