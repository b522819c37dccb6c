// What a backend supports, as conform saw it: from `conform backends --json` when a probe file is
// given, otherwise from the run record's own evidence (the cases that asked for a feature, and what
// came back). Pure.

import type { BackendIdentity, Case, CaseResult, Sample, Suite } from '../core/types.ts';
import type { Features } from './types.ts';

/** The fields of one `conform backends --json` row that the manifest reads. */
export interface ProbedBackend {
  name: string;
  reachable: boolean;
  reason?: string;
  identity?: BackendIdentity;
  features?: { logprobs: string; tools: string; namedToolChoice: string; streamedTools: string; jsonSchema: string };
}

const oneLine = (text: string, max = 160) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

interface Evidence {
  result: CaseResult;
  testCase: Case;
}

/** Why an answer did not show the feature: the server's error, or what the answer lacked. */
function failureOf(sample: Sample | undefined, lacked: string): string {
  if (!sample) return 'no answer';
  if (sample.kind !== 'ok') return oneLine(`${sample.kind}${sample.error?.status ? ` ${sample.error.status}` : ''}: ${sample.error?.message ?? ''}`);
  return lacked;
}

/**
 * A feature's state from the cases that asked for it: `yes` when any answer showed it, else `no: why`
 * from the first case that asked, else `unknown` when no case of the run asked.
 */
function judge(evidence: Evidence[], shows: (s: Sample, e: Evidence) => boolean, lacked: (c: Case) => string, what: string): string {
  if (evidence.length === 0) return `unknown: no case of this run asked for ${what}`;
  if (evidence.some((e) => e.result.sample?.kind === 'ok' && shows(e.result.sample, e))) return 'yes';
  const first = evidence[0]!;
  return `no: ${first.result.suite}/${first.result.caseId}: ${failureOf(first.result.sample, lacked(first.testCase))}`;
}

const namedChoice = (c: Case) => (typeof c.params.tool_choice === 'object' ? c.params.tool_choice.function.name : undefined);
const wantsTools = (c: Case) => (c.params.tools?.length ?? 0) > 0 && c.params.tool_choice !== 'none' && (c.endpoint === 'chat' || c.endpoint === 'completion');

/** Features from the run: the cases that asked for each one and the answers they got. */
export function featuresFromRun(backend: string, results: CaseResult[], suites: Suite[], identity: BackendIdentity): Features {
  const cases = new Map(suites.flatMap((s) => s.cases.map((c) => [`${s.name}\0${c.id}`, c] as const)));
  const evidence = (wants: (c: Case) => boolean): Evidence[] =>
    results
      .filter((r) => r.backend === backend && r.status !== 'skip')
      .map((result) => ({ result, testCase: cases.get(`${result.suite}\0${result.caseId}`) }))
      .filter((e): e is Evidence => e.testCase !== undefined && wants(e.testCase));
  const logprobCases = evidence((c) => c.params.logprobs === true);
  let cap: number | null = null;
  for (const { result } of logprobCases) for (const step of result.sample?.tokens ?? []) cap = Math.max(cap ?? 0, step.top.length);
  return {
    logprobs: judge(logprobCases, (s) => s.tokens.some((t) => t.logprob !== undefined), () => 'answered without logprobs', 'logprobs'),
    topLogprobsCap: cap,
    tools: judge(evidence(wantsTools), (s) => s.toolCalls.length > 0, (c) => `answered without a tool call (tool_choice ${JSON.stringify(c.params.tool_choice ?? 'auto')})`, 'tools'),
    namedToolChoice: judge(
      evidence((c) => wantsTools(c) && namedChoice(c) !== undefined),
      (s, e) => s.toolCalls.length > 0 && s.toolCalls.every((call) => call.name === namedChoice(e.testCase)),
      (c) => `tool_choice named ${namedChoice(c)} but the answer did not call it alone`,
      'a named tool_choice',
    ),
    streamedTools: judge(evidence((c) => wantsTools(c) && c.params.stream === true), (s) => s.streamed && s.toolCalls.length > 0, () => 'streamed answer without a tool call', 'streamed tool calls'),
    jsonSchema: judge(
      evidence((c) => c.params.response_format?.type === 'json_schema'),
      (_s, e) => e.result.verdicts.some((v) => v.check === 'json-schema' && v.status === 'pass'),
      () => 'the answer did not validate against the schema',
      'response_format json_schema',
    ),
    contextSize: identity.contextSize ?? null,
    source: 'run record: the cases that asked for each feature, and their answers',
  };
}

/** Features from a `conform backends --json` probe of the same backend, with the run's logprob cap and context. */
export function featuresFromProbe(probe: ProbedBackend, fromRun: Features): Features {
  if (!probe.reachable || !probe.features) {
    const why = `unknown: the probe did not reach it (${oneLine(probe.reason ?? 'unreachable')})`;
    return { ...fromRun, source: `${fromRun.source}; ${why.slice('unknown: '.length)}` };
  }
  const f = probe.features;
  return {
    logprobs: f.logprobs,
    topLogprobsCap: fromRun.topLogprobsCap,
    tools: f.tools,
    namedToolChoice: f.namedToolChoice,
    streamedTools: f.streamedTools,
    jsonSchema: f.jsonSchema,
    contextSize: probe.identity?.contextSize ?? fromRun.contextSize,
    source: 'conform backends --json (probed), with the logprob cap seen in the run',
  };
}
