/** Where the runtime image keeps `tgc sync` as one static executable (images/runtime/Dockerfile). */
export const STATIC_SYNC = '/usr/local/lib/tgc/tgc-sync';

/**
 * The command, run in the runtime image before an instance starts (k8s: an init container; nomad:
 * a prestart task), that puts `tgc sync` where the instance's container mounts it as /usr/bin/tgc.
 * A runtime image without the static executable (built without Go) gets a stand-in that says so
 * and exits 3, the code for "no coordinator", so the instance still starts.
 */
export function toolsCommand(dest: string): string[] {
  const missing =
    '#!/bin/sh\\necho "tgc sync: the runtime image has no static tgc sync (images/runtime/Dockerfile)" >&2\\nexit 3\\n';
  return ['sh', '-c', `cp ${STATIC_SYNC} ${dest} 2>/dev/null || printf '${missing}' > ${dest}; chmod 755 ${dest}`];
}
