import type { ErrorObject } from 'ajv';
import schema from '../schema/composition.schema.json' with { type: 'json' };
// Generated ahead of time by scripts/build.mjs (ajv standalone code): compiling the schema at
// every start would cost more than the rest of `tgc validate` together.
import { validate } from '../schema/composition.validate.mjs';
import type { Code } from './codes.js';
import { describePath, typeName, typeOf } from './describe-path.js';
import type { Diagnostics } from './diagnostics.js';
import { lastSegment, locate, parentPointer, type Positions } from './positions.js';
import type { Format } from './read-plan.js';
import { didYouMean } from './suggest.js';

export { schema };

const defs = schema.definitions;

/** Which code a failed `pattern` stands for: each unit grammar has its own. */
const PATTERN_CODES = new Map<string, { code: Code; hint: string }>([
  [
    defs.name.pattern,
    {
      code: 'BAD_NAME',
      hint: 'use lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
    },
  ],
  [
    defs.duration.pattern,
    {
      code: 'BAD_DURATION',
      hint: 'write a number and a unit (ns, us, ms, s, m, h), such as "50ms", "1.5s" or "1m30s"',
    },
  ],
  [
    defs.percent.pattern,
    { code: 'BAD_PERCENT', hint: 'write a percentage from "0%" to "100%", such as "1%" or "0.5%"' },
  ],
  [
    defs.rate.pattern,
    { code: 'BAD_RATE', hint: 'write bits ("500kbit", "10Mbit", "1Gbit") or bytes per second ("2MB/s", "512KiB/s")' },
  ],
  [
    defs.image.pattern,
    { code: 'BAD_IMAGE', hint: 'an image reference has no spaces, such as "tgc-example-ping:latest"' },
  ],
  [
    defs.resources.properties.cpu.pattern,
    { code: 'BAD_CPU', hint: 'give cores as a number (0.5, 2) or millicores as a string ("500m")' },
  ],
  [
    defs.resources.properties.memory.pattern,
    { code: 'BAD_MEMORY', hint: 'write bytes with an optional suffix: k, M, G, T or Ki, Mi, Gi, Ti (such as "512Mi")' },
  ],
  [defs.network.properties.subnet.pattern, { code: 'BAD_SUBNET', hint: 'write an IPv4 CIDR such as "198.18.0.0/16"' }],
]);

const INSTANCES = /^\/groups\/[0-9]+\/instances(\/count)?$/;

/**
 * Stage: the shape of the document, checked against `composition.schema.json`. Reports the
 * most specific error per place (no cascades), each with the code of the rule it breaks.
 */
export function checkSchema(value: unknown, positions: Positions, format: Format, diags: Diagnostics): boolean {
  if (validate(value)) return true;
  const errors = validate.errors ?? [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (!isMostSpecific(e, errors)) continue;
    const report = describe(e, value, format);
    if (!report) continue;
    const key = `${report.code}\0${report.path}\0${report.want}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diags.error(report.code, locate(positions, report.path, report.want), report.message);
  }
  return false;
}

/** A count check on a table is noise when something inside it is already reported. */
function isMostSpecific(e: ErrorObject, all: readonly ErrorObject[]): boolean {
  if (e.propertyName !== undefined) return false; // reported once, by its `propertyNames` error
  if (e.keyword === 'minProperties' || e.keyword === 'maxProperties') {
    return !all.some(
      (o) =>
        o !== e &&
        (o.instancePath.startsWith(e.instancePath + '/') ||
          (o.instancePath === e.instancePath && o.keyword === 'additionalProperties')),
    );
  }
  return true;
}

interface Report {
  readonly code: Code;
  readonly path: string;
  readonly want: 'key' | 'value';
  readonly message: string;
}

function valueAt(root: unknown, path: string): unknown {
  let v: unknown = root;
  if (path === '') return v;
  for (const raw of path.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

function describe(e: ErrorObject, root: unknown, format: Format): Report | undefined {
  const path = e.instancePath;
  const where = describePath(path);
  const value = valueAt(root, path);
  const shown = JSON.stringify(value);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const keyPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const hint = didYouMean(key, allowed);
      const extra = path === '' && !hint ? ' (top-level keys starting with "x-" are ignored)' : '';
      return {
        code: 'UNKNOWN_KEY',
        path: keyPath,
        want: 'key',
        message: `unknown key "${key}" in ${where}${hint}${extra}`,
      };
    }
    case 'required': {
      const missing = String(p.missingProperty);
      return { code: 'MISSING_KEY', path, want: 'key', message: `${where} is missing the required key "${missing}"` };
    }
    case 'type': {
      const expected = String(p.type)
        .split(',')
        .map((t) => article(typeName(t, format)));
      return {
        code: 'WRONG_TYPE',
        path,
        want: 'value',
        message: `${where} must be ${expected.join(' or ')}, not ${article(typeName(typeOf(value), format))}`,
      };
    }
    case 'const':
      if (path !== '/version')
        return {
          code: 'BAD_VALUE',
          path,
          want: 'value',
          message: `${where} can only be ${JSON.stringify(p.allowedValue)} (leave it out otherwise), not ${shown}`,
        };
      return {
        code: 'BAD_VERSION',
        path,
        want: 'value',
        message: `version must be 1 (the only composition format so far), not ${shown}`,
      };
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const hint = typeof value === 'string' ? didYouMean(value, allowed) : '';
      return {
        code: 'BAD_VALUE',
        path,
        want: 'value',
        message: `${where} must be one of ${allowed.join(', ')}, not ${shown}${hint}`,
      };
    }
    case 'pattern': {
      const rule = PATTERN_CODES.get(String(p.pattern));
      return {
        code: rule?.code ?? 'BAD_VALUE',
        path,
        want: 'value',
        message: `${where}: ${shown} is not valid; ${rule?.hint ?? `it must match ${String(p.pattern)}`}`,
      };
    }
    case 'propertyNames': {
      const name = String(p.propertyName);
      const keyPath = `${path}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      return {
        code: 'BAD_ENV_NAME',
        path: keyPath,
        want: 'key',
        message:
          `"${name}" is not a valid environment variable name; use letters, digits and "_", not starting ` +
          `with a digit`,
      };
    }
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum': {
      if (INSTANCES.test(path))
        return { code: 'ZERO_INSTANCES', path, want: 'value', message: `${where} must be at least 1, not ${shown}` };
      return {
        code: 'OUT_OF_RANGE',
        path,
        want: 'value',
        message: `${where} must be ${p.comparison} ${p.limit}, not ${shown}`,
      };
    }
    case 'minProperties':
    case 'maxProperties':
      return {
        code: 'BAD_INSTANCES',
        path,
        want: 'value',
        message: `${where} must hold exactly one of count or percentage`,
      };
    case 'minItems':
      return {
        code: 'EMPTY_VALUE',
        path,
        want: 'value',
        message:
          lastSegment(path) === 'groups'
            ? 'groups must hold at least one group'
            : Number(p.limit) > 1
              ? `${where} needs at least ${p.limit} entries, not ${Array.isArray(value) ? value.length : 0}`
              : `${where} must not be empty`,
      };
    case 'minLength':
      return { code: 'EMPTY_VALUE', path, want: 'value', message: `${where} must not be empty` };
    default:
      return {
        code: 'BAD_VALUE',
        path: path || parentPointer(path),
        want: 'value',
        message: `${where} ${e.message ?? 'is not valid'}`,
      };
  }
}

function article(phrase: string): string {
  return /^[aeiou]/.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}
