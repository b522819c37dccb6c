import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/default-config.ts';
import { unmetRequirement } from '../../src/core/backend-limits.ts';
import { DEFAULT_GATE_POLICY, evaluateGate } from '../../src/core/gate.ts';
import type { BackendConfig, BackendIdentity, Case, CaseResult, Suite } from '../../src/core/types.ts';
import { loadSuites } from '../../src/suites/load-suites.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { result, summary } from './run-summary-fixtures.ts';

// Which of the default suites' cases give the gate a TTFT: a case the backend runs, whose one sample is
// streamed. A repeated case is one sample (its first answer); a cold/warm case's sample is its last
// streamed steady-state request, and needs a backend conform launches.
interface Profile {
  backend: BackendConfig;
  identity: BackendIdentity;
  /** llama-server refuses streamed tools with logprobs (HTTP 400), so those cases give no sample. */
  refusesStreamedTools?: boolean;
}

// Every backend of the default matrix (cpu, cpu-q8, vulkan), and a llama-server beside them.
const PROFILES: Profile[] = [
  ...DEFAULT_CONFIG.backends.map((backend) => ({ backend, identity: { contextSize: 32_768 } })),
  // llama.cpp's llama-server as a baseUrl backend with -c 4096 (PEER-NOTES.md).
  { backend: { name: 'ls-cpu', class: 'cpu', model: 'conform-tiny', preset: 'llama-cpp', baseUrl: 'http://127.0.0.1:8080/v1' }, identity: { contextSize: 4096 }, refusesStreamedTools: true },
];

const SUITES = loadSuites(DEFAULT_CONFIG.suites, REPO);

function givesTtft(testCase: Case, profile: Profile): boolean {
  if (unmetRequirement(testCase, profile.backend, profile.identity)) return false;
  if (testCase.endpoint === 'lifecycle') return profile.backend.launch !== undefined;
  if (testCase.params.stream !== true) return false;
  return !(profile.refusesStreamedTools && testCase.params.tools !== undefined);
}

function streamedCases(profile: Profile, suites: Suite[] = SUITES): Array<{ suite: string; caseId: string }> {
  return suites.flatMap((suite) => suite.cases.filter((c) => givesTtft(c, profile)).map((c) => ({ suite: suite.name, caseId: c.id })));
}

// TTFTs as a 2-core machine measured them (long-context.yaml, DESIGN.md): short prompts well under a
// second, 1K and 4K prompts seconds on software Vulkan.
function ttftOf(caseId: string, backendClass: string): number {
  const slow = backendClass === 'software-gpu';
  if (caseId === 'ctx-1k') return slow ? 4400 : 48;
  if (caseId === 'ctx-4k') return slow ? 16_000 : 342;
  if (caseId.startsWith('ctx-')) return 5000;
  return slow ? 180 : 12;
}

describe('the default suites give the gate enough streamed samples', () => {
  it.each(PROFILES.map((p) => [p.backend.name, p] as const))('%s: at least minSamples plus a quarter', (_name, profile) => {
    const cases = streamedCases(profile);
    const margin = Math.ceil(DEFAULT_GATE_POLICY.minSamples * 1.25);
    expect(cases.length, cases.map((c) => `${c.suite}/${c.caseId}`).join(', ')).toBeGreaterThanOrEqual(margin);
    // Every streamed case of the streaming suite reaches every backend: it alone meets minSamples.
    expect(cases.filter((c) => c.suite === 'streaming').length).toBeGreaterThanOrEqual(DEFAULT_GATE_POLICY.minSamples);
  });

  it('so a 500 ms TTFT inflation on every streamed sample is judged and caught on every backend', () => {
    const run = (extraMs: number): CaseResult[] =>
      PROFILES.flatMap((p) =>
        streamedCases(p).map((c) => result({ backend: p.backend.name, suite: c.suite, caseId: c.caseId, status: 'pass', ttftMs: ttftOf(c.caseId, p.backend.class) + extraMs, endMs: 1000 })),
      );
    const decision = evaluateGate(summary(run(500), { runId: 'slow' }), summary(run(0), { runId: 'base' }), {}, new Date('2026-12-01'));
    const ttft = decision.latency.filter((c) => c.metric === 'ttft');
    expect(ttft.map((c) => [c.backend, c.outcome, c.test])).toEqual(PROFILES.map((p) => [p.backend.name, 'regressed', 'wilcoxon-signed-rank']).sort());
    expect(decision.pass).toBe(false);
    expect(decision.reasons.filter((r) => r.kind === 'latency-regression').map((r) => r.message)).toEqual(
      // In the order of the messages, as the gate lists them ("cpu-q8: …" before "cpu: …").
      PROFILES.map((p) => `${p.backend.name}:`)
        .sort()
        .map((prefix) => expect.stringMatching(new RegExp(`^${prefix} TTFT \\d+\\.\\d+x the baseline on the median case`))),
    );
  });

  it('which the default suites without the streaming suite did not give a baseUrl llama-server', () => {
    const before = streamedCases(PROFILES.find((p) => p.backend.name === 'ls-cpu')!, SUITES.filter((s) => s.name !== 'streaming'));
    expect(before.length).toBeLessThan(DEFAULT_GATE_POLICY.minSamples);
  });
});
