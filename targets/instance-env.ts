import type { Group, Plan } from '../schema/ir.js';
import { testInstanceCount } from '../model/instance-layout.js';

/** Where one instance runs: values a target knows, or expressions its orchestrator expands. */
export interface InstanceSite {
  readonly runId: string;
  /** `<group>-<n>`, or an expression that becomes it (`runners-$(TGC_INDEX)` on Kubernetes). */
  readonly instance: string;
  /** `host:port` of the coordinator. */
  readonly coordinator: string;
  readonly outputs: string;
  /** @default plan.network.subnet */
  readonly subnet?: string;
  /** Where the target knows it before the instance starts. */
  readonly dataIp?: string;
  /** Testground programs: TEST_START_TIME (RFC 3339), where the target knows it. */
  readonly startTime?: string;
  /** Testground programs: TEST_TEMP_PATH, a scratch directory of the instance's own. @default /tmp */
  readonly temp?: string;
  /** TGC_PEERS, where the target knows every data address: `name=ip,…`. */
  readonly peers?: string;
}

/** Every instance's name and data address, as TGC_PEERS spells them (`etcd-0=198.18.0.2,…`). */
export function peersList(layout: readonly { name: string; dataIp: string }[]): string {
  return layout.map((p) => `${p.name}=${p.dataIp}`).join(',');
}

/** A hosts file in which every instance name, and every group name, resolves on the data network. */
export function hostsFile(layout: readonly { name: string; group: string; dataIp: string }[]): string {
  return (
    '# Written by tgc: every instance and group name on the data network.\n127.0.0.1 localhost\n' +
    '::1 localhost ip6-localhost ip6-loopback\n' +
    layout.map((p) => `${p.dataIp} ${p.name} ${p.group}`).join('\n') +
    '\n'
  );
}

/** Testground's TEST_INSTANCE_PARAMS: `k=v|k=v`, strings as they are, other values as JSON. */
export function testgroundParams(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('|');
}

/** The environment of one instance of `g` (SPEC §5): the group's own env, then tgc's and Testground's names. */
export function instanceEnv(plan: Plan, g: Group, site: InstanceSite): Record<string, string> {
  const at = site.coordinator.lastIndexOf(':');
  const [host, port] = [site.coordinator.slice(0, at), site.coordinator.slice(at + 1)];
  const subnet = site.subnet ?? plan.network.subnet;
  return {
    ...g.env,
    TGC_RUN_ID: site.runId,
    TGC_PLAN: plan.name,
    TGC_GROUP: g.id,
    TGC_INSTANCE: site.instance,
    // The instances that decide the run (services not counted): what barriers wait for by default.
    TGC_INSTANCES: String(testInstanceCount(plan.groups)),
    TGC_GROUP_INSTANCES: String(g.instances),
    TGC_PARAMS: JSON.stringify(g.params),
    TGC_COORDINATOR: site.coordinator,
    TGC_DATA_SUBNET: subnet,
    ...(site.dataIp !== undefined && { TGC_DATA_IP: site.dataIp }),
    ...(site.peers !== undefined && { TGC_PEERS: site.peers }),
    // A group name stands in the hosts file once per member: glibc returns them all only so.
    RESOLV_MULTI: 'on',
    TGC_OUTPUTS: site.outputs,
    TEST_PLAN: plan.name,
    TEST_RUN: site.runId,
    TEST_GROUP_ID: g.id,
    TEST_INSTANCE_COUNT: String(plan.totalInstances),
    TEST_GROUP_INSTANCE_COUNT: String(g.instances),
    TEST_INSTANCE_PARAMS: testgroundParams(g.params),
    TEST_SUBNET: subnet,
    TEST_OUTPUTS_PATH: site.outputs,
    TEST_SIDECAR: 'true',
    SYNC_SERVICE_HOST: host,
    SYNC_SERVICE_PORT: port,
    ...(plan.testground && testgroundEnv(plan, g, site)),
  };
}

/** What programs on a Testground SDK read besides the above (docs/testground.md); only for plans that say so. */
function testgroundEnv(plan: Plan, g: Group, site: InstanceSite): Record<string, string> {
  const tg = plan.testground!;
  const ports = Object.fromEntries(
    Object.entries(tg.exposedPorts).map(([label, port]) => [
      `${label.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_PORT`,
      port,
    ]),
  );
  return {
    ...ports,
    TEST_PLAN: tg.plan,
    TEST_CASE: tg.case,
    TEST_GROUP_ID: g.testground?.groupId ?? g.id,
    TEST_CAPTURE_PROFILES: testgroundParams(g.testground?.profiles ?? {}),
    TEST_START_TIME: site.startTime ?? '',
    TEST_TEMP_PATH: site.temp ?? '/tmp',
    TEST_DISABLE_METRICS: String(tg.disableMetrics),
    TEST_BRANCH: '',
    TEST_REPO: '',
    TEST_TAG: '',
    TEST_INSTANCE_ROLE: '',
  };
}
