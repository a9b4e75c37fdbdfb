import { existsSync } from 'node:fs';
import { onPath } from '../driver/exec.js';
import type { Target } from '../target.js';
import { nativeWireBinary } from './native-wire.js';
import { localSteps } from './steps.js';

/** Local processes, each in its own network namespace (or on loopback with --no-shaping). */
export const localTarget: Target = {
  name: 'local',
  check(plan) {
    const none = plan.groups.filter((g) => !g.command).map((g) => `"${g.id}"`);
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
    if (!o.isRoot) {
      return (
        'the local target runs each instance in its own network namespace, which needs root here: run tgc with ' +
        'sudo (unprivileged user namespaces are not supported yet), or pass --no-shaping to run plain processes ' +
        'on loopback, unshaped'
      );
    }
    // socat carries the TUN devices' packets only where the native wire was not built.
    const missing = ['ip', ...(nativeWireBinary() ? [] : ['socat'])].filter((tool) => !onPath(tool, o.env.PATH));
    if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
    return missing.length > 0
      ? `the local target needs ${missing.join(', ')}: apt-get install iproute2 socat`
      : undefined;
  },
  run: async (o) => (await import('./run.js')).runLocal(o),
};
