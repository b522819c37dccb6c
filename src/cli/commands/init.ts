import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CONFIG_FILES } from '../../config/load-config.ts';
import { SCHEMAS_DIR } from '../../config/package-files.ts';
import { STARTER_SUITE_NAME, starterConfigTs, starterConfigYaml, starterSuite } from '../../config/starter-files.ts';
import { ConformError, EXIT } from '../../core/errors.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';

export { INIT_HELP } from '../command-help.ts';
import { INIT_HELP } from '../command-help.ts';

/** Where the editor finds a schema from a file conform writes: conform's own copy, wherever npm installed it. */
function schemaRef(file: string, schema: string): string {
  return relative(dirname(file), join(SCHEMAS_DIR, schema)).split('\\').join('/');
}

/** Says how to silence npm 11's "not covered by allowScripts" list, unless the project's package.json already decides both. */
function allowScriptsHint(cwd: string): string | undefined {
  let pkg: { allowScripts?: Record<string, unknown> };
  try {
    pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    return undefined;
  }
  const decided = Object.keys(pkg.allowScripts ?? {}).map((key) => key.replace(/(.)@.*$/, '$1'));
  if (['esbuild', 'node-llama-cpp'].every((name) => decided.includes(name))) return undefined;
  return "npm 11 lists the install scripts of esbuild and node-llama-cpp as unreviewed; conform needs neither, so deny them: npm install-scripts deny esbuild node-llama-cpp";
}

/** `conform init`: a starter config and suite, and what to do next. */
export async function initCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs('init', argv, { yaml: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean' } });
  if (values.help) return ctx.out(INIT_HELP), EXIT.ok;
  const configName = values.yaml ? 'conform.config.yaml' : 'conform.config.ts';
  const configFile = join(ctx.cwd, configName);
  const suiteFile = join(ctx.cwd, 'suites', `${STARTER_SUITE_NAME}.yaml`);
  const shown = (file: string) => relative(ctx.cwd, file).split('\\').join('/');

  // A second config file would be silently shadowed by (or shadow) the one written here.
  const otherConfig = CONFIG_FILES.filter((name) => name !== configName).find((name) => existsSync(join(ctx.cwd, name)));
  if (otherConfig)
    throw new ConformError('USAGE', `${otherConfig} already configures this folder; edit it, or remove it and run conform init again`);
  const existing = [configFile, suiteFile].filter((file) => existsSync(file));
  if (existing.length > 0 && !values.force)
    throw new ConformError('USAGE', `${existing.map(shown).join(' and ')} already exist${existing.length === 1 ? 's' : ''}; nothing written. --force overwrites ${existing.length === 1 ? 'it' : 'them'}`);

  const files: Array<[string, string]> = [
    [configFile, values.yaml ? starterConfigYaml(schemaRef(configFile, 'config.schema.json')) : starterConfigTs()],
    [suiteFile, starterSuite(schemaRef(suiteFile, 'suite.schema.json'))],
  ];
  for (const [file, text] of files) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    ctx.out(`wrote ${shown(file)}`);
  }
  ctx.out('');
  ctx.out('Next:');
  ctx.out(`  npx conform record   records golden/${STARTER_SUITE_NAME}.json on cpu, the reference backend; commit it with the suite`);
  ctx.out('  npx conform run      runs the suite on cpu, cpu-q8 and vulkan and compares with golden; reports go to reports/<run-id>/');
  ctx.out("Add your own servers under backends (a baseUrl), and conform's own suites as 'conform:smoke' under suites.");
  ctx.out('Vulkan needs libvulkan1 and a driver (mesa-vulkan-drivers on Debian); without them vulkan is reported as skipped.');
  ctx.out('Keep .cache/ (the fixture model) and reports/ out of version control.');
  const hint = allowScriptsHint(ctx.cwd);
  if (hint) ctx.out(hint);
  return EXIT.ok;
}
