/** Environment variables tgc sets inside every instance (SPEC §5); a plan may not set them. */
export const TESTGROUND_ALIASES = [
  'TEST_PLAN',
  'TEST_RUN',
  'TEST_GROUP_ID',
  'TEST_INSTANCE_COUNT',
  'TEST_GROUP_INSTANCE_COUNT',
  'TEST_INSTANCE_PARAMS',
  'TEST_SUBNET',
  'TEST_OUTPUTS_PATH',
  'TEST_SIDECAR',
  'SYNC_SERVICE_HOST',
  'SYNC_SERVICE_PORT',
] as const;

export function isReservedEnv(name: string): boolean {
  return name.startsWith('TGC_') || (TESTGROUND_ALIASES as readonly string[]).includes(name);
}
