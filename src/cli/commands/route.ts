import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ConformError, EXIT } from '../../core/errors.ts';
import { runFolderOrNewest } from '../../record/run-folder.ts';
import { rankBackends } from '../../routing/rank-backends.ts';
import { validateRoutePolicy } from '../../routing/route-policy.ts';
import { renderRoutingMarkdown } from '../../routing/routing-markdown.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { readPolicyFile } from '../policy-file.ts';

export { ROUTE_HELP } from '../command-help.ts';
import { ROUTE_HELP } from '../command-help.ts';

/** `conform route`: a routing table per request class from a run record. */
export async function routeCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('route', argv, { policy: { type: 'string' }, out: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean' } }, true);
  if (values.help) return ctx.out(ROUTE_HELP), EXIT.ok;
  if (positionals.length > 1) throw new ConformError('USAGE', `conform route: one run folder at most, got ${positionals.length}; merge runs first with "conform merge". See "conform route --help".`);
  if (!values.policy) throw new ConformError('USAGE', 'conform route needs --policy <policy.yaml>, for example --policy route-policy.yaml. See "conform route --help".');
  const policy = readPolicyFile(values.policy, ctx.cwd, validateRoutePolicy);
  const run = await runFolderOrNewest(positionals[0], ctx.cwd, values.config);
  const table = rankBackends(run.summary, policy, values.policy);
  const out = values.out ? resolve(ctx.cwd, values.out) : run.dir;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'routing.json'), `${JSON.stringify(table, null, 2)}\n`);
  const markdown = renderRoutingMarkdown(table);
  writeFileSync(join(out, 'routing.md'), markdown);
  for (const cls of table.classes) ctx.out(`${cls.name}: ${cls.route ?? 'no route'}${cls.route ? '' : ` (${cls.candidates.map((c) => `${c.backend}: ${c.reasons.join('; ')}`).join(' · ')})`}`);
  ctx.out(`${relative(ctx.cwd, out) || '.'}: wrote routing.json and routing.md`);
  return table.classes.every((c) => c.route) ? EXIT.ok : EXIT.conformanceFailure;
}
