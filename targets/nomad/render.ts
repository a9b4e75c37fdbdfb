import Handlebars from 'handlebars';
import type { Group, Plan } from '../../schema/ir.js';
import { classification, shapingPlan } from '../../model/egress-plan.js';
import { instanceEnv } from '../instance-env.js';
import { COORDINATOR_PORT, containerProblems, generatedHeader, type Renderer } from '../target.js';
import { coordinatorCommand, eventsJson } from '../driver/coordinator-command.js';
import { pollInterval } from '../driver/poll-interval.js';
import { toolsCommand } from '../tools-command.js';

/** Inside a docker task the allocation directory is /alloc; every task of the allocation sees it. */
const OUTPUTS = '/alloc/outputs';
const ANY_SUBNET = '0.0.0.0/0';
const HEREDOC = 'TGC_RUNTIME_EOF';

/**
 * An HCL2 quoted string holding exactly `s`: backslash escapes, and `${` / `%{` doubled so HCL
 * reads them as text, not as interpolation or a template directive.
 */
export function hclString(s: string): string {
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
  return `"${body}"`;
}

/** A heredoc body for embedded files: only `${` and `%{` need doubling there. */
function heredoc(s: string): string {
  if (s.split('\n').includes(HEREDOC)) throw new Error(`an embedded file contains the line ${HEREDOC}`);
  return s
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{')
    .replace(/\n?$/, '\n');
}

/**
 * Go-template delimiters for embedded files, which Nomad's `template` would otherwise read as
 * templates: a pair the file does not contain.
 */
function delimiters(s: string): [string, string] {
  for (let i = 0; ; i++) {
    const pair: [string, string] = [`[[tgc${i || ''}`, `tgc${i || ''}]]`];
    if (!s.includes(pair[0]) && !s.includes(pair[1])) return pair;
  }
}

// Handlebars is the layout; every value goes through a helper that escapes it for HCL, and
// noEscape turns off HTML escaping (`"` would become `&quot;`). Nomad's own Go templates
// (`{{ range nomadService … }}`) arrive as values, never as template text.
const hbs = Handlebars.create();
hbs.registerHelper('hcl', (v: unknown) => hclString(String(v)));
hbs.registerHelper('list', (v: readonly string[]) => `[${v.map(hclString).join(', ')}]`);
hbs.registerHelper('heredoc', (v: string) => heredoc(v));
hbs.registerHelper('delimiter', (v: string, side: number) => hclString(delimiters(v)[side]!));
// A file embedded in the job (the runtime, the schedule), written where the task reads it.
hbs.registerPartial(
  'file',
  `      template {
        destination     = {{hcl path}}
        left_delimiter  = {{delimiter text 0}}
        right_delimiter = {{delimiter text 1}}
        data            = <<${HEREDOC}
{{heredoc text}}${HEREDOC}
      }
`,
);
// A task's environment: its variables, and the coordinator's address from the service catalogue.
hbs.registerPartial(
  'env',
  `      env {
{{#each vars}}
        {{@key}} = {{this}}
{{/each}}
      }

      template {
        destination = "local/coordinator.env"
        env         = true
        data        = {{hcl lookup}}
      }
`,
);

const JOB = hbs.compile(
  `# {{header}}
# Plan "{{plan}}": {{summary}}.
# Run: nomad job run {{file}}   (then: nomad job status {{job}}; nomad job stop -purge {{job}})
job {{hcl job}} {
  type        = "batch"
  datacenters = ["*"]

  meta {
    tgc_plan = {{hcl plan}}
    tgc_run  = {{hcl runId}}
  }

  group "coordinator" {
    count = 1

    restart {
      attempts = 0
      mode     = "fail"
    }

    reschedule {
      attempts  = 0
      unlimited = false
    }

    network {
      mode = "bridge"
      port "tgc" {
        to = {{port}}
      }
    }

    service {
      name     = {{hcl service}}
      provider = "nomad"
      port     = "tgc"

      check {
        type     = "http"
        path     = "/healthz"
        interval = "2s"
        timeout  = "1s"
      }
    }

    task "coordinator" {
      driver = "docker"

      config {
        image      = {{hcl runtimeImage}}
        entrypoint = {{list coordinatorArgs}}
      }

{{> file path="local/coordinator.mjs" text=coordinator}}
{{#if events}}

      # The plan's [[events]], which the coordinator applies.
{{> file path="local/events.json" text=events}}
{{/if}}
    }
  }
{{#each groups}}

  group {{hcl id}} {
    count = {{count}}

    restart {
      attempts = 0
      mode     = "fail"
    }

    reschedule {
      attempts  = 0
      unlimited = false
    }

    network {
      mode = "bridge"
    }

    # The group's instances in Nomad's service catalogue (their names: docs/targets/nomad.md).
    service {
      name         = {{hcl peersService}}
      provider     = "nomad"
      address_mode = "alloc"
    }
{{#if ../shaped}}

    task "shaping" {
      driver = "docker"

      lifecycle {
        hook    = "prestart"
        sidecar = true
      }

      config {
        image      = {{hcl ../runtimeImage}}
        entrypoint = ["node", "local/agent.mjs", "kernel"]
        cap_add    = ["NET_ADMIN"]
      }

{{> env vars=agentEnv lookup=../coordinatorLookup}}

{{> file path="local/agent.mjs" text=../agent}}
    }
{{/if}}

    # tgc sync for the instance (docs/sync-cli.md): the runtime image's static executable, into
    # the allocation's shared directory before the instance starts.
    task "tgc-tools" {
      driver = "docker"

      lifecycle {
        hook    = "prestart"
        sidecar = false
      }

      config {
        image      = {{hcl ../runtimeImage}}
        entrypoint = {{list ../toolsCommand}}
      }
    }

    task "instance" {
      driver = "docker"

      config {
        image = {{hcl image}}
{{#if command}}
        entrypoint = {{list command}}
{{/if}}
        volumes = ["../alloc/tgc:/usr/bin/tgc:ro"]
      }

{{> env vars=env lookup=../coordinatorLookup}}
{{#if resources}}

      resources {
{{#if resources.cpu}}
        cpu    = {{resources.cpu}}
{{/if}}
{{#if resources.memory}}
        memory = {{resources.memory}}
{{/if}}
      }
{{/if}}
    }
  }
{{/each}}
}
`,
  { noEscape: true, strict: true },
);

/** `tgc-<plan>`, or `tgc-<plan>-<run id>` when `tgc run` renders it, so that runs of one plan do not meet. */
export function nomadJobName(plan: Plan, runId?: string): string {
  return runId ? `tgc-${plan.name}-${runId}` : `tgc-${plan.name}`;
}

/** The coordinator's service: `tgc-<plan>-coordinator`, with `-<run id>` when `tgc run` renders it. */
export function nomadServiceName(plan: Plan, runId?: string): string {
  return `tgc-${plan.name}-coordinator${runId ? `-${runId}` : ''}`;
}

/**
 * The Nomad target: one HCL2 batch job — the coordinator's task group with a Nomad-native
 * service and its health check, and per composition group a task group with `count`, bridge
 * networking, a prestart sidecar that shapes with tc (NET_ADMIN) and the instance task. The
 * runtime is embedded as `template` data, so the job needs no artifact server.
 */
export const nomadRenderer: Renderer = {
  name: 'nomad',
  check: (plan) => containerProblems(plan, 'nomad'),
  render(plan, options) {
    const runId = options.runId ?? plan.name;
    const job = nomadJobName(plan, options.runId);
    const service = nomadServiceName(plan, options.runId);
    const shaped = plan.network.shaping !== 'off';
    const file = `${plan.name}.nomad.hcl`;
    // Where the coordinator is, from Nomad's service catalogue, as environment variables.
    const coordinatorLookup =
      `{{ range nomadService ${JSON.stringify(service)} }}TGC_COORDINATOR={{ .Address }}:{{ .Port }}\n` +
      'SYNC_SERVICE_HOST={{ .Address }}\nSYNC_SERVICE_PORT={{ .Port }}\n{{ end }}';
    const text = JOB({
      header: generatedHeader(plan),
      plan: plan.name,
      file,
      summary:
        `${plan.totalInstances} instance${plan.totalInstances === 1 ? '' : 's'} in ${plan.groups.length} task ` +
        `group${plan.groups.length === 1 ? '' : 's'}, shaping ${shaped ? 'kernel (tc)' : 'off'}`,
      job,
      runId,
      port: COORDINATOR_PORT,
      service,
      shaped,
      runtimeImage: options.runtimeImage ?? plan.runtimeImage,
      coordinatorArgs: coordinatorCommand(plan, {
        script: 'local/coordinator.mjs',
        runId,
        agents: shaped,
        linger: '30s',
        eventsFile: 'local/events.json',
        exitGraceMs: pollInterval(plan.totalInstances) + 5000,
      }),
      coordinator: options.runtime.coordinator,
      events: eventsJson(plan),
      agent: options.runtime.agent,
      coordinatorLookup,
      toolsCommand: toolsCommand('/alloc/tgc'),
      groups: plan.groups.map((g) => ({ ...groupView(plan, g, runId), peersService: `${job}-${g.id}` })),
    });
    return new Map([[file, text]]);
  },
};

function groupView(plan: Plan, g: Group, runId: string): Record<string, unknown> {
  // `${NOMAD_ALLOC_INDEX}` is Nomad's to fill in, so these two are written unescaped, below.
  const instance = `${g.id}-\${NOMAD_ALLOC_INDEX}`;
  const env = instanceEnv(plan, g, {
    runId,
    instance: 'INSTANCE',
    coordinator: 'COORDINATOR:0',
    outputs: OUTPUTS,
    subnet: ANY_SUBNET,
  });
  // The coordinator's address comes from the service catalogue (the template), not from here.
  for (const k of ['TGC_COORDINATOR', 'SYNC_SERVICE_HOST', 'SYNC_SERVICE_PORT']) delete env[k];
  const resources: Record<string, number> = {};
  // Nomad counts CPU in MHz; a millicore is taken as 1 MHz (1000m → 1000 MHz), memory in MiB.
  if (g.resources.cpuMillis !== undefined) resources.cpu = Math.max(1, Math.round(g.resources.cpuMillis));
  if (g.resources.memoryBytes !== undefined)
    resources.memory = Math.max(1, Math.ceil(g.resources.memoryBytes / 2 ** 20));
  return {
    id: g.id,
    count: g.instances,
    image: g.image,
    command: g.command,
    env: hclValues(env, instance),
    agentEnv: hclValues(
      {
        TGC_INSTANCE: 'INSTANCE',
        TGC_GROUP: g.id,
        TGC_DATA_SUBNET: ANY_SUBNET,
        TGC_SHAPING: JSON.stringify(shapingPlan(plan, classification(plan, 'nomad'))),
      },
      instance,
    ),
    resources: Object.keys(resources).length > 0 ? resources : undefined,
  };
}

/** Each value as an HCL string literal; TGC_INSTANCE keeps its `${NOMAD_ALLOC_INDEX}` for Nomad to fill in. */
function hclValues(env: Readonly<Record<string, string>>, instance: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, k === 'TGC_INSTANCE' ? `"${instance}"` : hclString(v)]),
  );
}
