import { Command, CommanderError, Option } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { schema } from '../compiler/check-schema.js';
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from '../compiler/diagnostics.js';
import { planJson, planTable } from './format-plan.js';
import { compileFile, compileText, type CompileResult } from '../compiler/pipeline.js';
import { MAX_PLAN_BYTES, type Format } from '../compiler/read-plan.js';
import type { Plan } from '../schema/ir.js';
import { overrideImages } from '../targets/image-overrides.js';

/** Exit codes (SPEC §3). */
export const EXIT = { ok: 0, runFailed: 1, invalid: 2, environment: 3, internal: 70, interrupted: 130 } as const;

/** Everything the CLI needs from the outside world, so tests can run it in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Reads all of standard input (for `-`), at most `limit` bytes plus one. */
  readonly readStdin: (limit: number) => Uint8Array;
  /** Colour on stderr: a TTY and no NO_COLOR. */
  readonly color: boolean;
  /** stderr is a terminal (live progress line). @default false */
  readonly tty?: boolean;
  /** Aborted on Ctrl-C. */
  readonly signal?: AbortSignal;
  /** The environment instances inherit, and the working directory they run in. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Whether this process may create network namespaces (root). */
  readonly isRoot?: boolean;
}

/** Commander's accumulator for repeatable options. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export interface CompileOptions {
  image?: string[];
  target: 'compose' | 'k8s' | 'nomad';
  out?: string;
  check?: boolean;
  runtimeImage?: string;
  shaping?: 'kernel' | 'userspace';
}

export interface PlanOptions {
  format?: Format;
  json?: boolean;
}

/** Runs one `tgc` command line; resolves to the exit code. Never throws, never exits. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('tgc')
    .description('tgc: declarative network test compositions (TOML/YAML) for p2p and distributed systems.')
    .version(pkg.version, '-V, --version', 'print the tgc version')
    .helpOption('-h, --help', 'show help')
    .addHelpText(
      'after',
      `
Exit codes: 0 success · 1 the run failed · 2 invalid plan or usage · 3 environment problem · 130 interrupted · 70 internal error (a bug in tgc).
Docs: README.md and docs/composition.md.`,
    )
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showSuggestionAfterError(true);

  const formatOption = () =>
    new Option('--format <format>', 'parser to use; required when the plan is read from stdin (-)').choices([
      'toml',
      'yaml',
    ]);

  program
    .command('validate')
    .description('parse and check a plan; print every problem as file:line:col: error[CODE]: message')
    .argument('<plan>', 'plan file (.toml, .yaml, .yml), or - for stdin')
    .addOption(formatOption())
    .option('--json', 'print the diagnostics as JSON on stdout')
    .action((file: string, opts: PlanOptions) => {
      const result = compile(file, opts, io);
      if (!result) return void (code = EXIT.invalid);
      code = report(result, opts, io);
      if (code === EXIT.ok) {
        const plan = result.plan!;
        if (opts.json) io.stdout(JSON.stringify({ ok: true, diagnostics: result.diagnostics.items }, null, 2) + '\n');
        else
          io.stdout(
            `${file === '-' ? '<stdin>' : file}: ok (${plan.groups.length} group${plan.groups.length === 1 ? '' : 's'}, ${plan.totalInstances} instance${plan.totalInstances === 1 ? '' : 's'})\n`,
          );
      }
    });

  program
    .command('plan')
    .description('print the expanded plan: groups, instance counts, what runs, params and network')
    .argument('<plan>', 'plan file (.toml, .yaml, .yml), or - for stdin')
    .addOption(formatOption())
    .option('--json', 'print the normalized plan and every instance as JSON')
    .action((file: string, opts: PlanOptions) => {
      const result = compile(file, opts, io);
      if (!result) return void (code = EXIT.invalid);
      code = report(result, opts, io);
      if (code === EXIT.ok) io.stdout(opts.json ? planJson(result.plan!) : planTable(result.plan!));
    });

  program
    .command('schema')
    .description('print the composition JSON Schema (for editors: yaml-language-server, Taplo)')
    .action(() => {
      io.stdout(JSON.stringify(schema, null, 2) + '\n');
    });

  program
    .command('compile')
    .description(
      'write the deployment of a plan for an orchestrator: compose.yaml, Kubernetes manifests or a Nomad job, with the runtime embedded',
    )
    .argument('<plan>', 'plan file (.toml, .yaml, .yml), or - for stdin')
    .addOption(formatOption())
    .addOption(
      new Option('--target <target>', 'the orchestrator').choices(['compose', 'k8s', 'nomad']).makeOptionMandatory(),
    )
    .option('-o, --out <dir>', 'output directory, replaced as a whole (default deploy/<target>)')
    .option('--check', 'write nothing; exit 1 with a unified diff when the directory is stale, 0 when fresh')
    .option(
      '--runtime-image <image>',
      "the coordinator's and shaping agent's image (default run.runtime_image, or tgc-runtime:<version>)",
    )
    .option(
      '--image <[group=]image>',
      "an instance image instead of the plan's: for every group, or for one (repeatable)",
      collect,
      [],
    )
    .addOption(
      new Option(
        '--shaping <backend>',
        'compose: the backend for plans with shaping = "auto" (default userspace, which works on every kernel)',
      ).choices(['kernel', 'userspace']),
    )
    .action(async (file: string, opts: PlanOptions & CompileOptions) => {
      let result = compile(file, opts, io);
      if (!result) return void (code = EXIT.invalid);
      if (result.plan) {
        const plan = withImages(result.plan, opts.image ?? [], opts.target, io);
        if (!plan) return void (code = EXIT.invalid);
        result = { ...result, plan };
      }
      const { compileCommand } = await import('./commands/compile.js');
      code = await compileCommand(file, result, opts, io, report);
    });

  program
    .command('run')
    .description(
      'run a plan: start every instance with the coordinator and the network shaping, follow it, collect the results, tear it all down',
    )
    .argument('<plan>', 'plan file (.toml, .yaml, .yml), or - for stdin')
    .addOption(formatOption())
    .addOption(
      new Option(
        '--target <target>',
        'where to run: local processes, Docker Compose, a Kubernetes cluster (kubectl) or Nomad (nomad CLI)',
      )
        .choices(['local', 'compose', 'k8s', 'nomad'])
        .default('local'),
    )
    .option(
      '--runtime-image <image>',
      "container targets: the coordinator's and shaping agent's image (default run.runtime_image)",
    )
    .option(
      '--image <[group=]image>',
      "container targets: an instance image instead of the plan's, for every group or one (repeatable)",
      collect,
      [],
    )
    .option('--dry-run', 'print every command the run would issue, in order, and run none')
    .option('--out <dir>', 'the run directory (default .tgc/runs/<run-id>); must not exist, or be empty')
    .option('--json', 'print only the final results JSON')
    .option('--namespace <ns>', 'k8s: run in this existing namespace (default: one created per run, deleted after)')
    .option('--context <ctx>', 'k8s: the kubeconfig context (default: the current one)')
    .option('--no-shaping', 'local target: plain processes on loopback, no namespaces, no root, shapes not applied')
    .action(
      async (
        file: string,
        opts: PlanOptions & {
          target: string;
          dryRun?: boolean;
          out?: string;
          shaping?: boolean;
          runtimeImage?: string;
          namespace?: string;
          context?: string;
          image?: string[];
        },
      ) => {
        const result = compile(file, opts, io);
        if (!result) return void (code = EXIT.invalid);
        code = report(result, { ...opts, json: false }, io);
        if (code !== EXIT.ok) return;
        const plan = withImages(result.plan!, opts.image ?? [], opts.target, io);
        if (!plan) return void (code = EXIT.invalid);
        const { runCommand } = await import('./commands/run.js');
        code = await runCommand(plan, { ...opts, version: pkg.version, planFile: file }, io);
      },
    );

  program
    .command('coordinator')
    .description('run a standalone coordinator for one run (see tgc coordinator --help)')
    .argument('[options...]', 'coordinator options')
    .helpOption(false)
    .allowUnknownOption(true)
    .action(async (args: string[]) => {
      const { coordinatorMain } = await import('../runtime/coordinator/main.js');
      code = await coordinatorMain(args, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other parse failure is a usage error.
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
        ? EXIT.ok
        : EXIT.invalid;
    }
    io.stderr(
      `tgc: internal error: ${(err as Error)?.message ?? String(err)}\nThis is a bug in tgc; please report it with the plan that caused it.\n`,
    );
    return EXIT.internal;
  }
}

function compile(file: string, opts: PlanOptions, io: CliIo): CompileResult | undefined {
  if (file !== '-') return compileFile(file, opts.format);
  if (!opts.format) {
    io.stderr('tgc: reading a plan from stdin (-) needs --format toml or --format yaml\n');
    return undefined;
  }
  return compileText('<stdin>', io.readStdin(MAX_PLAN_BYTES), opts.format);
}

/** The plan with `--image` overrides applied, or undefined after saying why not. */
function withImages(plan: Plan, specs: readonly string[], target: string, io: CliIo): Plan | undefined {
  if (specs.length > 0 && target === 'local') {
    io.stderr('tgc: --image is for the container targets (compose, k8s, nomad); the local target runs command\n');
    return undefined;
  }
  const out = overrideImages(plan, specs);
  if ('error' in out) {
    io.stderr(`tgc: ${out.error}\n`);
    return undefined;
  }
  return out;
}

/** Prints the diagnostics; returns 2 when any is an error, else 0. */
export function report(result: CompileResult, opts: PlanOptions, io: CliIo): number {
  const sorted: Diagnostic[] = sortDiagnostics(result.diagnostics.items);
  const errors = sorted.filter((d) => d.severity === 'error').length;
  if (opts.json) {
    if (errors > 0) io.stdout(JSON.stringify({ ok: false, diagnostics: sorted }, null, 2) + '\n');
  } else if (sorted.length > 0) {
    const text = sorted.map((d) => formatDiagnostic(d, result.source, { color: io.color })).join('\n\n');
    const warnings = sorted.length - errors;
    const summary = [
      errors && `${errors} error${errors === 1 ? '' : 's'}`,
      warnings && `${warnings} warning${warnings === 1 ? '' : 's'}`,
    ]
      .filter(Boolean)
      .join(', ');
    io.stderr(`${text}\n\n${summary}\n`);
  }
  return errors > 0 ? EXIT.invalid : EXIT.ok;
}
