import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { WireEndpoint } from '../shaping/wire.js';
import { runCommand, stderrTail } from '../shaping/run-command.js';
import { AgentLink } from './agent-link.js';
import { need, shaping, type AgentIo, type AgentValues } from './agent-io.js';
import { containerEnv, DockerApi, type ContainerState } from './docker-api.js';
import { WireShapes } from './wire.js';
import { relayInto, relayServer, relaySocket, RELAY_PORT, type Relay } from './relay.js';
import { Plumber } from './plumber.js';
import { coordinatorAddress, nodeAddress, selfContainer } from './whereabouts.js';
import { placeOf, type WireSite } from './peer-places.js';
import { moveAddress, outsideSubnet, renameInHosts } from './move-address.js';
import { reapVolumesLater, shipOutputs } from './node-duties.js';
import { EXIT } from '../../model/exit-codes.js';

/** The coordinator topic on which the agents of several hosts (swarm) tell where each instance's wire is. */
export const WIRE_TOPIC = 'tgc:wire-endpoints';

/** One instance container as the host agent knows it. */
interface Site {
  readonly name: string;
  /** Kernel: the kernel agent holding its data path. */
  child?: ChildProcess | undefined;
  /** Userspace: its data path's key with the plumber (the namespace's inode tells starts apart). */
  plumbing?: string | undefined;
  /**
   * Userspace: its network namespace, held open. A container that dies leaves its namespace and
   * data interface behind, as a pod's sandbox outlives its process (and a process killed on the
   * local target its namespace): its address refuses connections until a restart replaces it.
   */
  netnsFd?: number | undefined;
  /** The coordinator's relay on the loopback of its namespace. */
  relay?: Relay | undefined;
  /** Its data address (its connections to the coordinator name the first) and its mask. */
  ip?: string;
  prefix: number;
  /** Set-ups run one after another per instance (a restart's `die` and `start` in order). */
  queue: Promise<void>;
  link?: Promise<AgentLink> | undefined;
  ready: boolean;
}

/**
 * `host`: the shaping agent of every instance container on this Docker host (compose). It
 * watches the run's instance containers through the Docker API and, each time one starts,
 * enters its network namespace (`nsenter`, by the container's pid: the agent shares the host's
 * pid namespace) to set up its data path — userspace: a TUN device bridged to the wire this
 * process runs; kernel: tc on its data interface, by a kernel agent in that namespace — then
 * writes `<state>/<instance>` with the namespace's inode, which the instance's entry point
 * (`tgc-sync exec-shaped`) waits for before it runs the program. A restarted container has a new
 * namespace: its data path is set up again, and the marker names the new one.
 */
export async function hostAgent(values: AgentValues, io: AgentIo): Promise<number> {
  const backend = String(values.backend ?? '');
  if (backend !== 'kernel' && backend !== 'userspace') throw new Error('host needs --backend kernel|userspace');
  const spec = shaping(io, values.shaping);
  const runId = need(io, 'TGC_RUN_ID');
  const stateDir = String(values.state ?? '/tgc-state');
  const docker = new DockerApi(String(values.docker ?? '/var/run/docker.sock'));
  const coordinator = await coordinatorAddress(need(io, 'TGC_COORDINATOR'), runId, docker, io);
  // The host's /proc: the agent's own where it shares the host's pid namespace (compose), else
  // the host's mounted in (swarm services cannot share it).
  const proc = String(values.proc ?? '/proc');
  const peerPort = values.peers === undefined ? undefined : Number(values.peers);
  if (peerPort !== undefined && !(Number.isInteger(peerPort) && peerPort >= 0 && peerPort < 65536))
    throw new Error(`--peers takes a UDP port (0: any), not ${String(values.peers)}`);
  const prefix = Number(String(io.env.TGC_DATA_SUBNET ?? '').split('/')[1] ?? '16');
  const script = process.argv[1]!;
  const sites = new Map<string, Site>();
  /** This host's endpoint of each instance that ran here, the latest by name. */
  const localEndpoints = new Map<string, WireEndpoint>();
  const nameOf = new Map<string, string>();
  let stop!: (why?: string) => void;
  const stopped = new Promise<string | undefined>((resolve) => (stop = resolve));

  // The instances of this run — of this compose project, when the agent is in one.
  const self = await selfContainer(docker, io);
  const project = self?.Config.Labels?.['com.docker.compose.project'];
  const stack = self?.Config.Labels?.['com.docker.stack.namespace'];
  const label = [`dev.tgc.run=${runId}`, 'dev.tgc.component=instance'];
  if (project) label.push(`com.docker.compose.project=${project}`);
  if (stack) label.push(`com.docker.stack.namespace=${stack}`);
  const outputs = typeof values.outputs === 'string' ? values.outputs : undefined;

  let shapes: WireShapes | undefined;
  let plumber: Plumber | undefined;
  let stopping = false;
  // Several hosts (swarm): this wire's address on the network the agents share, where the
  // others send what their instances send to this host's.
  const here = peerPort === undefined ? undefined : await nodeAddress(docker, self);
  if (peerPort !== undefined && !here) throw new Error('--peers: this container has no network address');
  let peersKnown: Promise<void> | undefined;
  let peersVia: AgentLink | undefined;
  /** The wire's UDP port on the loopback; each TUN bridge has a free one of its own. */
  let wirePort = 0;
  /** The UDP port where the other hosts' agents reach this wire (swarm). */
  let peersAt = 0;
  if (backend === 'userspace') {
    shapes = new WireShapes(spec);
    wirePort = await shapes.wire.listen(0, '127.0.0.1');
    if (peerPort !== undefined) peersAt = await shapes.wire.listenPeers(peerPort);
    // A TUN device needs /dev/net/tun, which a swarm service cannot be given: made here.
    if (!existsSync('/dev/net/tun')) {
      mkdirSync('/dev/net', { recursive: true });
      const made = await runCommand('mknod', ['/dev/net/tun', 'c', '10', '200']);
      if (made.code !== 0) throw new Error(`cannot make /dev/net/tun: ${made.stderr.trim()}`);
    }
    // Every instance's data path from one process; without it no instance here has a network.
    plumber = Plumber.start((why) => stop(`the instances' data paths are gone: ${why}`));
  }

  const linkOf = (site: Site) =>
    (site.link ??= AgentLink.open(coordinator, site.name, {
      timeoutMs: 10 * 60_000,
      from: site.ip,
      dataIp: site.ip,
    }).then((link) => {
      // The run's end stops the agent; a link closed by the coordinator alone means the instance's
      // agent is another now (it restarted on another host, swarm): this one lets it go.
      link.onStop(() => (link.runEnded ? stop() : lost(site, link)));
      if (shapes) link.onAddress((ip, asked) => move(site, link, ip, asked));
      return link;
    }));

  /**
   * Userspace: the instance to another data address (Testground's `IPv4`): in its namespace, on
   * this host's wire (and the others', through the endpoints topic), in its neighbours' hosts files.
   */
  const move = async (site: Site, link: AgentLink, ip: string, asked: number | undefined) => {
    const endpoint = localEndpoints.get(site.name);
    if (site.netnsFd === undefined || !endpoint || !site.ip) throw new Error(`${site.name} is not running here`);
    const outside = outsideSubnet(ip, `${site.ip}/${prefix}`);
    if (outside) throw new Error(outside);
    const to = { ip, prefix: asked ?? prefix };
    await moveAddress(`/proc/${process.pid}/fd/${site.netnsFd}`, 'data0', { ip: site.ip, prefix: site.prefix }, to);
    const from = site.ip;
    site.ip = ip;
    site.prefix = to.prefix;
    localEndpoints.set(site.name, { ...endpoint, ip });
    shapes!.wire.add({ ...endpoint, ip });
    if (here) await link.publish(WIRE_TOPIC, { name: site.name, ip, host: here, port: peersAt });
    await renameHere(from, ip);
  };

  /** The names at `from` resolve to `to` in every instance container running on this host. */
  const renameHere = async (from: string, to: string) => {
    const states = await Promise.all(
      [...live].map((id) => docker.get<ContainerState>(`/containers/${id}/json`).catch(() => undefined)),
    );
    renameInHosts(
      states.flatMap((c) => (c?.State.Pid ? [`${proc}/${c.State.Pid}/root/etc/hosts`] : [])),
      from,
      to,
    );
  };

  const lost = (site: Site, link: AgentLink) => {
    void site.link?.then((l) => l === link && (site.link = undefined)).catch(() => undefined);
    if (link !== peersVia) return;
    // The other hosts' instances were followed on that link: on another one from now on.
    peersVia = undefined;
    peersKnown = undefined;
    const other = [...sites.values()].find((s) => s !== site && s.link);
    void other?.link?.then(followPeers).catch((err: Error) => io.stderr(`tgc agent: ${err.message}\n`));
  };

  /** Sets up the data path of a container that started; resolves when it is in place. */
  const started = async (c: ContainerState): Promise<void> => {
    const t0 = Date.now();
    const name = containerEnv(c, 'TGC_INSTANCE');
    const group = containerEnv(c, 'TGC_GROUP');
    const ip = containerEnv(c, 'TGC_DATA_IP');
    if (!name || !group || !ip || !c.State.Running || c.State.Pid <= 0) return;
    nameOf.set(c.Id, name);
    const site = sites.get(name)!;
    const netns = `${proc}/${c.State.Pid}/ns/net`;
    const netnsFd = openSync(netns, 'r');
    const inode = fstatSync(netnsFd).ino;
    const earlier = { child: site.child, fd: site.netnsFd, relay: site.relay, plumbing: site.plumbing };
    site.child = undefined;
    site.plumbing = undefined;
    site.netnsFd = undefined;
    site.ip = ip;
    site.prefix = prefix;
    try {
      // The instance reaches the coordinator at 127.0.0.1:RELAY_PORT, relayed by this agent: its
      // namespace needs no other interface than its data one.
      if (shapes) {
        shapes.serve(name, group, linkOf(site));
        const key = `${name}-${inode}`;
        const socket = relaySocket(key);
        site.relay = await relayServer(coordinator, ip, socket);
        // Its device data0 and the relay's listener, made in its namespace by the plumber.
        const port = await plumber!.add(
          key,
          { netns, ip, prefix, wire: wirePort, relay: socket, listen: RELAY_PORT },
          (why) => !stopping && io.stderr(`tgc agent: ${name}'s data path ended: ${why}\n`),
        );
        site.plumbing = key;
        const endpoint = { name, ip, port, host: '127.0.0.1' };
        localEndpoints.set(name, endpoint);
        shapes.wire.add(endpoint);
        site.netnsFd = netnsFd;
        // Other hosts' wires learn where it is before it runs (and so before anyone can reach it).
        if (here) await tellPeers(await linkOf(site), { name, ip, host: here, port: peersAt });
      } else {
        site.relay = await relayInto(netns, coordinator, ip, `${name}-${inode}`);
        site.child = await kernelAgent(name, group, netns, `/tmp/tgc-ready-${name}-${inode}`);
        closeSync(netnsFd);
      }
    } catch (err) {
      closeSync(netnsFd);
      site.relay?.close();
      site.relay = undefined;
      throw err;
    } finally {
      // The namespace of an earlier start (the container restarted) goes, and its data interface with it.
      earlier.child?.kill('SIGTERM');
      earlier.relay?.close();
      if (earlier.plumbing) plumber?.remove(earlier.plumbing);
      if (earlier.fd !== undefined) closeSync(earlier.fd);
    }
    // The marker names the namespace shaped, so a restarted container waits for its own.
    writeFileSync(`${stateDir}/.${name}`, `${inode}\n`);
    renameSync(`${stateDir}/.${name}`, `${stateDir}/${name}`);
    io.stderr(`tgc agent: ${name} shaped (${backend}, pid ${c.State.Pid}) in ${Date.now() - t0} ms\n`);
    if (shapes && !site.ready) await (await linkOf(site)).ready();
    site.ready = true;
  };

  /**
   * Publishes where an instance's wire is, and (once) follows what every host publishes: each
   * other host's instance becomes a remote endpoint of this wire.
   */
  const tellPeers = async (link: AgentLink, site: WireSite): Promise<void> => {
    await followPeers(link);
    await link.publish(WIRE_TOPIC, site);
  };
  /**
   * Once: every host's instances, from the first, on `link`. Places are taken in the order they
   * were published, this host's own included: an instance that ran elsewhere and restarted here
   * is here (its publish is the later), even when this host starts following only now.
   */
  const followPeers = (link: AgentLink): Promise<void> => {
    if (peersKnown) return peersKnown;
    peersVia = link;
    const placed = new Map<string, string>();
    return (peersKnown = link.subscribe(WIRE_TOPIC, (payload) => {
      const place = placeOf(payload, here, localEndpoints);
      if (!place) return;
      shapes!.wire.add(place);
      // An instance on another host moved to another address: its names here follow.
      const before = placed.get(place.name);
      placed.set(place.name, place.ip);
      if (place.remote && before !== undefined && before !== place.ip) void renameHere(before, place.ip);
    }));
  };

  /** Kernel: a kernel agent inside the instance's namespace; resolves once it has shaped it. */
  const kernelAgent = async (name: string, group: string, netns: string, readyFile: string): Promise<ChildProcess> => {
    const child = spawn('nsenter', [`--net=${netns}`, process.execPath, script, 'kernel', '--ready-file', readyFile], {
      env: { ...process.env, TGC_INSTANCE: name, TGC_GROUP: group, TGC_COORDINATOR: `127.0.0.1:${RELAY_PORT}` },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    const said = stderrTail(child);
    child.stderr!.on('data', (d: Buffer) => io.stderr(d.toString()));
    let failedToStart = '';
    child.once('error', (err) => (failedToStart = `cannot start nsenter: ${err.message}`));
    for (const deadline = Date.now() + 60_000; !existsSync(readyFile);) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        const why = (said() + failedToStart).trim().split('\n').pop();
        throw new Error(why || `its set-up ended (${child.exitCode ?? child.signalCode})`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    rmSync(readyFile, { force: true });
    return child;
  };

  const failed = async (name: string, err: Error) => {
    io.stderr(`tgc agent: ${name}: ${err.message}\n`);
    const site = sites.get(name)!;
    // The kernel agent of the instance registered itself, and is gone: the host agent speaks for it.
    const link = await linkOf(site).catch(() => undefined);
    await link?.failed(err.message).catch(() => undefined);
  };

  /** Instance containers running here, and outputs being shipped. */
  const live = new Set<string>();
  /** Each container start handled, by id and pid. */
  const starts = new Set<string>();
  const shipping: Promise<void>[] = [];
  const onContainer = (id: string, action: string) => {
    void (async () => {
      const c = action === 'start' ? await docker.get<ContainerState>(`/containers/${id}/json`) : undefined;
      const name = c ? containerEnv(c, 'TGC_INSTANCE') : nameOf.get(id);
      if (!name) return;
      if (c) {
        // A container starting while the agent starts is both listed and in the events: one set-up
        // (a second one replaced the first's data interface and relay under the running program).
        const start = `${id}:${c.State.Pid}`;
        if (starts.has(start)) return;
        starts.add(start);
        live.add(id);
      }
      let site = sites.get(name);
      if (!site) sites.set(name, (site = { name, queue: Promise.resolve(), ready: false, prefix }));
      site.queue = site.queue.then(async () => {
        if (c) return started(c).catch((err: Error) => failed(name, err));
        rmSync(`${stateDir}/${name}`, { force: true });
        live.delete(id);
        // Its outputs to the coordinator, where the driver cannot reach this node's containers.
        if (outputs)
          shipping.push(
            shipOutputs(docker, id, outputs, coordinator, name).then(
              (done) => io.stderr(`tgc agent: ${done}\n`),
              (err: Error) => io.stderr(`tgc agent: ${name}'s outputs: ${err.message}\n`),
            ),
          );
        // Kernel: the agent in the namespace goes with it (userspace: the data path stays, above).
        if (!shapes) {
          site!.child?.kill('SIGTERM');
          site!.child = undefined;
        }
      });
    })().catch((err: Error) => io.stderr(`tgc agent: container ${id.slice(0, 12)}: ${err.message}\n`));
  };

  // Subscribed before the containers are listed: none starts unseen in between.
  const events = await docker.events(
    { type: ['container'], event: ['start', 'die'], label },
    (e) => e.id && e.Action && onContainer(e.id, e.Action),
    (err) => stop(`the Docker event stream ended${err ? `: ${err.message}` : ''}`),
  );
  const running = await docker.get<{ Id: string }[]>(
    `/containers/json?filters=${encodeURIComponent(JSON.stringify({ label, status: ['running'] }))}`,
  );
  for (const c of running) onContainer(c.Id, 'start');
  io.stderr(`tgc agent: shaping the instances of run ${runId} (${backend}) on this Docker host\n`);

  const why = await Promise.race([stopped, io.terminated.then(() => undefined)]);
  // Shipping outputs: the run has ended; the instances end next (their programs, or their stop).
  if (outputs) {
    for (const until = Date.now() + 30_000; live.size > 0 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 200));
    await Promise.all(shipping);
  }
  events.close();
  stopping = true;
  // The namespaces first (their relays and held descriptors): the kernel then removes every data
  // device in one batch as it cleans them up, where bridges ending first would unregister their
  // devices one by one (~0.5 s each here); the plumber, holding the devices, after them.
  for (const site of sites.values()) {
    site.relay?.close();
    if (site.netnsFd !== undefined) closeSync(site.netnsFd);
    site.netnsFd = undefined;
    void site.link?.then((l) => l.close()).catch(() => undefined);
  }
  await new Promise((r) => setTimeout(r, 200));
  await plumber?.close();
  // Those still running (a kernel agent ends by itself with the run): an exited one never says so again.
  const alive = [...sites.values()].flatMap((s) =>
    s.child && s.child.exitCode === null && s.child.signalCode === null ? [s.child] : [],
  );
  const ended = alive.map((child) => new Promise((r) => child.once('exit', r)));
  for (const child of alive) child.kill('SIGTERM');
  await Promise.race([Promise.all(ended), new Promise((r) => setTimeout(r, 10_000))]);
  if (shapes) {
    shapes.wire.close();
    io.stderr(`tgc agent: ${shapes.summary()}\n`);
  }
  // The stack's volumes on this node (the agent's own container holds them): a helper removes them.
  if (values['reap-volumes'] && stack && self?.Config.Image) {
    const socket = self.Mounts?.find((m) => m.Destination === '/var/run/docker.sock')?.Source ?? '/var/run/docker.sock';
    await reapVolumesLater(docker, { stack, image: self.Config.Image, socket, runId }).catch((err: Error) =>
      io.stderr(`tgc agent: the stack's volumes stay on this node: ${err.message}\n`),
    );
  }
  if (why) io.stderr(`tgc agent: ${why}\n`);
  return why ? EXIT.runFailed : EXIT.ok;
}
