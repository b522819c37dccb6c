import { resolve } from 'node:path';
import { ConformError, exitCodeFor, EXIT } from '../core/errors.ts';
import type { CliContext } from './context.ts';
import { CONFORM_VERSION } from './version.ts';

const HELP = `conform ${CONFORM_VERSION}: cross-backend conformance for LLM inference

Usage: conform <command> [options]

  init     write a starter config and suite into this folder        (conform init --help)
  run      run the suites against backends and compare with golden  (conform run --help)
  record   record golden samples on the reference backend           (conform record --help)
  backends probe the configured backends: identity and features      (conform backends --help)
  serve    the built-in OpenAI-compatible engine                    (conform serve --help)
  model    create the tiny fixture model                            (conform model --help)
  merge    merge shard or per-backend run folders into one          (conform merge --help)
  gate     release gate: compare a run with the approved baseline   (conform gate --help)
  badge    per-backend pass badges and last passing release         (conform badge --help)
  route    route request classes to backends by cost, TTFT, passes   (conform route --help)
  report   re-render junit, markdown and html from a run's summary  (conform report --help)
  selftest inject known faults into a clean run: detection power     (conform selftest --help)
  manifest the signed backend manifest of a release, and plan updates (conform manifest --help)
  keygen   an Ed25519 key pair for signing manifests                 (conform keygen --help)

Exit codes: 0 all passed, 1 conformance failures, 2 config or usage error, 3 infrastructure errors only.`;

type Command = (argv: string[], ctx: CliContext) => Promise<number>;
// Each command is imported only when asked for: `run` and `--version` never load serve's
// node-llama-cpp (about 200 modules), and an installed conform starts in a fraction of a second.
const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./commands/init.ts')).initCommand,
  run: async () => (await import('./commands/run.ts')).runCommand,
  record: async () => (await import('./commands/record.ts')).recordCommand,
  backends: async () => (await import('./commands/backends.ts')).backendsCommand,
  serve: async () => (await import('./commands/serve.ts')).serveCommand,
  model: async () => (await import('./commands/model.ts')).modelCommand,
  merge: async () => (await import('./commands/merge.ts')).mergeCommand,
  gate: async () => (await import('./commands/gate.ts')).gateCommand,
  badge: async () => (await import('./commands/badge.ts')).badgeCommand,
  route: async () => (await import('./commands/route.ts')).routeCommand,
  report: async () => (await import('./commands/report.ts')).reportCommand,
  selftest: async () => (await import('./commands/selftest.ts')).selftestCommand,
  manifest: async () => (await import('./commands/manifest.ts')).manifestCommand,
  keygen: async () => (await import('./commands/keygen.ts')).keygenCommand,
};

/** The one place that reads the environment and turns errors into exit codes; nothing reaches the user as a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const cwd = process.cwd();
  const ctx: CliContext = {
    cwd,
    env: process.env,
    cacheDir: resolve(cwd, process.env.CONFORM_CACHE_DIR ?? '.cache/conform'),
    isTTY: Boolean(process.stderr.isTTY) && !process.env.CI,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') return ctx.out(HELP), name ? EXIT.ok : EXIT.usage;
  if (name === '--version' || name === '-v') return ctx.out(CONFORM_VERSION), EXIT.ok;
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) return ctx.err(`conform: unknown command "${name}"; expected one of ${Object.keys(COMMANDS).join(', ')}. See "conform --help".`), EXIT.usage;
  if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) return ctx.out((await import('./command-help.ts')).COMMAND_HELP[name]!), EXIT.ok;
  try {
    const command = await load();
    return await command(rest, ctx);
  } catch (error) {
    if (error instanceof ConformError) {
      ctx.err(`conform ${name}: ${error.message}`);
      return exitCodeFor(error);
    }
    // An unexpected error is conform's bug; say so in one line and keep the trace behind a flag.
    ctx.err(`conform ${name}: internal error: ${(error as Error)?.message ?? String(error)}`);
    if (process.env.CONFORM_DEBUG) ctx.err(String((error as Error)?.stack));
    else ctx.err('Set CONFORM_DEBUG=1 for the stack trace, and please report it.');
    return EXIT.infrastructure;
  }
}
