import { existsSync } from 'node:fs';
import { onPath } from '../driver/exec.js';
import type { Target } from '../target.js';
import { nativeWireBinary } from './native-wire.js';
import { rootlessProblem } from './rootless.js';
import { localSteps } from './steps.js';

/** Local processes, each in its own network namespace (or on loopback with --no-shaping). */
export const localTarget: Target = {
  name: 'local',
  check(plan) {
    // A Go build (Testground's exec:go) gives the group its program: tgc run builds it first.
    const none = plan.groups.filter((g) => !g.command && g.build?.kind !== 'go').map((g) => `"${g.id}"`);
    if (none.length === 0) return [];
    const one = none.length === 1;
    return [
      {
        pointer: '/groups',
        code: 'TARGET_UNSUPPORTED',
        message:
          `the local target runs commands, and group${one ? '' : 's'} ${none.join(', ')} ha${one ? 's' : 've'} none: ` +
          'set command (image and build are for the container targets)',
      },
    ];
  },
  steps: localSteps,
  environment(o) {
    if (o.loopback) return undefined;
    // Not root: the run goes into namespaces of its own (rootless.ts), if this machine lets it.
    if (!o.isRoot) {
      const problem = rootlessProblem(o.env);
      if (problem) return problem;
    }
    // socat carries the TUN devices' packets only where the native wire was not built.
    const missing = ['ip', ...(nativeWireBinary() ? [] : ['socat'])].filter((tool) => !onPath(tool, o.env.PATH));
    if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
    return missing.length > 0
      ? `the local target needs ${missing.join(', ')}: apt-get install iproute2 socat`
      : undefined;
  },
  run: async (o) =>
    !o.isRoot && !o.loopback ? (await import('./rootless.js')).runRootless(o) : (await import('./run.js')).runLocal(o),
};
