// The routing table explained for people: which backend serves each request class, and why the others
// do not. Pure.

import { mdText } from '../reporters/markdown-reporter.ts';
import { formatMoney } from '../telemetry/report/telemetry-text.ts';
import type { Candidate, RoutedClass, RoutingTable } from './rank-backends.ts';

function matchText(cls: RoutedClass): string {
  const parts: string[] = [];
  if (cls.match.suites) parts.push(`suites ${cls.match.suites.join(', ')}`);
  if (cls.match.minPromptTokens !== undefined && cls.match.maxPromptTokens !== undefined) parts.push(`prompts of ${cls.match.minPromptTokens} to ${cls.match.maxPromptTokens} tokens`);
  else if (cls.match.minPromptTokens !== undefined) parts.push(`prompts of ${cls.match.minPromptTokens} tokens or more`);
  else if (cls.match.maxPromptTokens !== undefined) parts.push(`prompts of at most ${cls.match.maxPromptTokens} tokens`);
  return parts.length ? parts.join('; ') : 'every request';
}

function constraintText(cls: RoutedClass): string {
  const c = cls.constraints;
  const parts = [
    c.ttft && `p${c.ttft.percentile} TTFT ≤ ${c.ttft.maxMs} ms`,
    c.maxCostPer1k !== undefined && `cost ≤ ${c.maxCostPer1k} per 1K tokens`,
    c.requireSuites?.length && `passes ${c.requireSuites.join(', ')}`,
    c.labels && Object.keys(c.labels).length && Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(', '),
    (c.requirePassing ?? true) && 'every case of the class passes',
  ].filter(Boolean);
  return parts.join('; ');
}

function figures(c: Candidate): string {
  const cost = c.costPer1k === null ? 'cost unknown' : `${formatMoney(c.costPer1k, c.currency ?? '')} per 1K tokens${c.costNote ? ` (${c.costNote})` : ''}`;
  const ttft = c.ttftMs === null ? 'no TTFT' : `p${c.ttftPercentile} TTFT ${c.ttftMs.toFixed(1)} ms`;
  return `${cost}, ${ttft}, ${c.passing} of ${c.cases} cases pass`;
}

function why(cls: RoutedClass): string {
  const chosen = cls.candidates[0];
  const others = cls.candidates.slice(1);
  if (!cls.route || !chosen) return `no backend meets every constraint: ${cls.candidates.map((c) => `${c.backend}: ${c.reasons.join('; ')}`).join(' · ')}`;
  const rivals = others.map((c) => (c.eligible ? `${c.backend} also qualifies but costs more or answers later (${figures(c)})` : `${c.backend}: ${c.reasons.join('; ')}`));
  return `${others.some((c) => c.eligible) ? 'the cheapest' : 'the only backend'} that meets every constraint (${figures(chosen)})${rivals.length ? `; ${rivals.join(' · ')}` : ''}`;
}

/** routing.md: one row per class, then each class's candidates in rank order. */
export function renderRoutingMarkdown(table: RoutingTable): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const out = [
    `## Routing for run ${mdText(table.runId)}`,
    '',
    `Policy ${mdText(table.policy)}. Among the backends that meet a class's constraints, the cheapest per 1K tokens (in each backend's own currency) comes first, then the lower TTFT. Figures are this run's, at each backend's stated concurrency.`,
    '',
    row(['request class', 'route to', 'why']),
    row(['---', '---', '---']),
    ...table.classes.map((cls) => row([`**${mdText(cls.name)}** (${mdText(matchText(cls))})`, cls.route ? `**${mdText(cls.route)}**` : '— none', mdText(why(cls))])),
  ];
  for (const cls of table.classes) {
    out.push('', `### ${mdText(cls.name)}`, '', `Requests: ${mdText(matchText(cls))}. Constraints: ${mdText(constraintText(cls) || 'none')}.`, '');
    cls.candidates.forEach((c, i) => out.push(`${i + 1}. **${mdText(c.backend)}**: ${c.eligible ? 'eligible' : 'excluded'}, ${mdText(figures(c))}${c.reasons.length ? `; ${mdText(c.reasons.join('; '))}` : ''}`));
  }
  out.push('');
  return out.join('\n');
}
