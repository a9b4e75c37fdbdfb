/**
 * The closed catalog of diagnostic codes. Every diagnostic tgc prints carries one of these;
 * tests assert codes and positions, never message prose. Add a code here first, with its
 * one-line summary, then use it — `docs/diagnostics.md` lists the same catalog for users.
 */
export const codes = {
  // Reading the file
  FILE_NOT_FOUND: 'the plan file does not exist',
  FILE_IS_DIRECTORY: 'a directory was given where a plan file was expected',
  FILE_UNREADABLE: 'the plan file cannot be read (permissions, device)',
  FILE_TOO_LARGE: 'the plan file is larger than the 10 MiB limit',
  FILE_NOT_TEXT: 'the plan file is not UTF-8 text',
  FILE_EMPTY: 'the plan file holds no composition',
  UNKNOWN_FORMAT: 'the file extension picks no parser (.toml, .yaml, .yml) and no --format was given',
  // Parsing
  TOML_SYNTAX: 'TOML syntax error',
  YAML_SYNTAX: 'YAML syntax error',
  DUPLICATE_KEY: 'a key is defined twice in the same table or mapping',
  YAML_ALIAS: 'a YAML alias that cannot be resolved, or too many of them',
  TOO_DEEP: 'tables, arrays or mappings nested more than 100 levels deep',
  BAD_NUMBER: 'a number JSON cannot carry: inf, nan, or an integer beyond 2^53',
  // Shape (JSON Schema)
  UNKNOWN_KEY: 'a key the composition format does not define',
  MISSING_KEY: 'a required key is missing',
  WRONG_TYPE: 'a value of the wrong type',
  BAD_VERSION: 'version is not 1',
  BAD_VALUE: 'a value outside the allowed set',
  BAD_NAME: 'a plan name or group id that cannot become a DNS label',
  BAD_DURATION: 'a malformed duration',
  BAD_PERCENT: 'a malformed percentage',
  BAD_RATE: 'a malformed rate',
  BAD_IMAGE: 'a malformed image reference',
  BAD_ENV_NAME: 'an environment variable name that is not [A-Za-z_][A-Za-z0-9_]*',
  BAD_CPU: 'a malformed CPU limit',
  BAD_MEMORY: 'a malformed memory limit',
  BAD_SUBNET: 'a malformed IPv4 CIDR',
  BAD_INSTANCES: 'instances given as a table with neither or both of count and percentage',
  ZERO_INSTANCES: 'a group with fewer than one instance',
  OUT_OF_RANGE: 'a number outside its allowed range',
  EMPTY_VALUE: 'an empty string or list where something is required',
  // Meaning
  DUPLICATE_GROUP: 'two groups with the same id',
  UNKNOWN_GROUP: 'a link rule naming a group that does not exist',
  DUPLICATE_LINK: 'two link rules for the same from/to pair',
  PERCENTAGE_WITHOUT_TOTAL: 'a group uses percentage but run.total_instances is not set',
  PERCENTAGE_SUM: 'percentages and counts do not add up to run.total_instances',
  TOTAL_MISMATCH: 'run.total_instances differs from the sum of the group counts',
  REORDER_WITHOUT_LATENCY: 'reorder on a link that has no latency',
  JITTER_WITHOUT_LATENCY: 'jitter on a link that has no latency',
  DISTRIBUTION_WITHOUT_JITTER: 'a jitter distribution on a link that has no jitter',
  CORRELATION_WITHOUT_BASE: 'a *_correlation without the percentage it correlates',
  ZERO_BANDWIDTH: 'a bandwidth of zero (use blocked = true for a partition)',
  BUILD_KEY_KIND: "a build key that does not apply to the build's kind (a Go key on a Dockerfile build)",
  NOTHING_TO_RUN: 'a group with neither command, image nor build',
  NO_TEST_GROUP: 'every group is a service: nothing decides the run',
  RESERVED_ENV: 'an env variable tgc sets itself (TGC_*, Testground aliases)',
  NAME_TOO_LONG: 'plan name + group id + instance index exceed a 63-character DNS label',
  SUBNET_TOO_SMALL: 'the data subnet has fewer addresses than the plan needs',
  // Events (the [[events]] schedule)
  EVENT_TRIGGER: 'an event with no trigger, or with both at and after',
  EVENT_ACTION: 'an event with no action, or with more than one',
  UNKNOWN_INSTANCE: 'an event selector that names no instance or group of the plan',
  PARTITION_OVERLAP: 'an instance on two sides of a partition (or twice on one)',
  RESUME_WITHOUT_PAUSE: 'a resume of an instance no event pauses',
  DUPLICATE_EVENT: 'two events with the same name',
  EVENT_NEEDS_SHAPING: 'a partition, heal or link event in a plan with shaping = "off"',
  UNSIGNALLED_STATE: 'an event waits for an event:<name> state no event signals (a warning)',
  // Testground compositions (docs/testground.md)
  TEMPLATE_ERROR: "the composition's Go template does not parse or fails to run",
  UNKNOWN_CASE: 'global.case names no test case of the manifest',
  NOT_IN_MANIFEST: 'a builder or runner the manifest does not declare',
  NO_MANIFEST: 'no manifest.toml was found: the case and the param defaults are not checked',
  DUPLICATE_RUN: 'two [[runs]] with the same id',
  UNKNOWN_RUN: '--run names no run of the composition',
  UNSUPPORTED_BUILDER: 'a builder Testground does not have (docker:go, docker:generic, docker:node, exec:go are)',
  // Targets: what a plan asks that the chosen target cannot express
  NO_IMAGE: 'a group with no image, on a container target',
  TARGET_UNSUPPORTED: 'a setting the chosen target cannot express',
  // Command line
  USAGE: 'a command-line usage error',
} as const satisfies Record<string, string>;

export type Code = keyof typeof codes;
