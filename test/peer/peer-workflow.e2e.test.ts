// The whole workflow against llama.cpp's own llama-server, through the real CLI, as a user runs it:
// golden recorded on the peer's CPU build, then one run over two engines (llama-server, conform serve)
// by two kernel paths (ggml CPU, Vulkan on llvmpipe). What the peer really breaks must fail, named by
// case and check; healthy drift between the four must pass; nothing else may fail.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoldenFile, RunSummary } from '../../src/core/types.ts';
import { loadSuites } from '../../src/suites/load-suites.ts';
import { conform } from '../helpers/conform-cli.ts';
import { startPeerProject, type PeerProject } from './peer-project.ts';
import { readRunSummary } from '../../src/record/run-folder.ts';

const SUITES = ['cold-warm', 'determinism', 'function-calling', 'long-context', 'smoke', 'streaming', 'tool-use-jitter'];
const PEERS = ['llama-server-cpu', 'llama-server-vulkan'];

// The first failing check is given: tools left out of the prompt explain the missing tool call that follows.
const NO_TOOLS_IN_PROMPT = /^answered, but failed its own prompt-tokens check: tools left out of the prompt: the backend read \d+ prompt tokens/;
const AGENT_IGNORED = /^answered, but failed its own agent-loop check: the case asked for tool_choice \w+ and the answer had no tool call .*so the server ignored it/;

/** Every case the peer cannot serve, with what record must say about it (llama-server 80fb11a, fixture model, context 4096). */
const UNSUPPORTED: Record<string, Record<string, RegExp>> = {
  'cold-warm': { 'cold-start': /^conform does not launch llama-server-cpu/, 'warm-start': /^conform does not launch llama-server-cpu/ },
  'function-calling': {
    'named-weather': NO_TOOLS_IN_PROMPT,
    'named-time': NO_TOOLS_IN_PROMPT,
    'named-time-streamed': /^HTTP 400: logprobs is not supported with tools \+ stream$/,
    'required-one-tool': NO_TOOLS_IN_PROMPT,
    'required-choose': NO_TOOLS_IN_PROMPT,
    parallel: NO_TOOLS_IN_PROMPT,
    'parallel-streamed': /^HTTP 400: logprobs is not supported with tools \+ stream$/,
    auto: NO_TOOLS_IN_PROMPT,
    none: NO_TOOLS_IN_PROMPT,
  },
  'long-context': Object.fromEntries(['ctx-8k', 'ctx-16k', 'ctx-32k'].map((id) => [id, /^needs \d+ tokens of context; llama-server-cpu serves 4096$/])),
  smoke: { 'tool-call-named': NO_TOOLS_IN_PROMPT, 'tool-call-required': NO_TOOLS_IN_PROMPT, 'json-schema-answer': /^HTTP 400: Failed to initialize samplers/ },
  'tool-use-jitter': { 'booking-under-jitter': AGENT_IGNORED, 'weather-under-rate-limits': AGENT_IGNORED, 'resets-and-truncation': AGENT_IGNORED },
};

/** What each peer really breaks, by `suite/case`: every check that fails there; the same on both of its kernel paths. */
const PEER_FAILURES: Record<string, string[]> = {
  'function-calling/named-weather': ['prompt-tokens', 'tool-call'],
  'function-calling/named-time': ['prompt-tokens', 'tool-call'],
  'function-calling/named-time-streamed': ['sample'],
  'function-calling/required-one-tool': ['prompt-tokens', 'tool-call'],
  'function-calling/required-choose': ['prompt-tokens', 'tool-call'],
  'function-calling/parallel': ['prompt-tokens', 'tool-call'],
  'function-calling/parallel-streamed': ['sample'],
  'function-calling/auto': ['prompt-tokens'],
  'function-calling/none': ['prompt-tokens'],
  'smoke/tool-call-named': ['prompt-tokens', 'tool-call'],
  'smoke/tool-call-required': ['prompt-tokens', 'tool-call'],
  'smoke/json-schema-answer': ['sample'],
  'tool-use-jitter/booking-under-jitter': ['agent-loop'],
  'tool-use-jitter/weather-under-rate-limits': ['agent-loop'],
  'tool-use-jitter/resets-and-truncation': ['agent-loop'],
};

function summaryOf(stdout: string): RunSummary {
  const runDir = /Results: (\S+)/.exec(stdout)?.[1];
  expect(runDir, stdout).toBeDefined();
  return readRunSummary(runDir!, '/').summary;
}

describe('llama-server, the peer conform did not write: record, the 2×2 matrix, backends', () => {
  let project: PeerProject;
  beforeAll(async () => {
    project = await startPeerProject();
  }, 300_000);
  afterAll(async () => project?.stop());

  it('records golden on llama-server cpu: every suite written, each case it cannot serve listed with the reason', async () => {
    const record = await conform(['record'], { cwd: project.dir, timeout: 600_000 });
    expect(record.exitCode, `${record.stdout}\n${record.stderr}`).toBe(0);
    for (const suite of SUITES) {
      const file = join(project.dir, 'golden', `${suite}.json`);
      expect(existsSync(file), file).toBe(true);
      const golden = JSON.parse(readFileSync(file, 'utf8')) as GoldenFile;
      expect(golden.provenance.backend).toBe('llama-server-cpu');
      expect(golden.provenance.identity.contextSize).toBe(4096);
      expect(golden.provenance.identity.modelFingerprint).toMatchObject({ vocabSize: 900, embeddingWidth: 64 });
      const unsupported = golden.provenance.unsupported ?? {};
      const expected = UNSUPPORTED[suite] ?? {};
      expect(Object.keys(unsupported).sort(), suite).toEqual(Object.keys(expected).sort());
      for (const [caseId, reason] of Object.entries(expected)) expect(unsupported[caseId], `${suite}/${caseId}`).toMatch(reason);
      for (const caseId of Object.keys(expected)) expect(golden.samples[caseId], `${suite}/${caseId} has no sample`).toBeUndefined();
      // Every case is accounted for, once: a sample or an unsupported reason, never both, never neither.
      const cases = loadSuites([`suites/${suite}.yaml`], project.dir)[0]!.cases.map((c) => c.id);
      expect([...Object.keys(golden.samples), ...Object.keys(unsupported)].sort(), suite).toEqual(cases.sort());
      for (const [caseId, reason] of Object.entries(unsupported)) expect(record.stdout).toContain(`  unsupported ${suite}/${caseId}: ${reason}`);
    }
    expect(record.stdout).toMatch(/unsupported smoke\/json-schema-answer: HTTP 400: Failed to initialize samplers/);
  }, 600_000);

  it('runs both engines on both kernel paths: healthy drift passes, what the peer breaks fails by case and check, nothing else', async () => {
    const run = await conform(['run'], { cwd: project.dir, timeout: 1_500_000 });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
    const summary = summaryOf(run.stdout);
    expect(summary.backends.map((b) => [b.name, b.state])).toEqual([...PEERS, 'cpu', 'vulkan'].map((name) => [name, 'ran']));
    const failing = Object.fromEntries(
      summary.results
        .filter((r) => r.status === 'fail' || r.status === 'error')
        .map((r) => [`${r.backend}/${r.suite}/${r.caseId}`, r.verdicts.filter((v) => v.status === 'fail' || v.status === 'error').map((v) => v.check).sort()]),
    );
    const expected = Object.fromEntries(PEERS.flatMap((peer) => Object.entries(PEER_FAILURES).map(([id, checks]) => [`${peer}/${id}`, checks])));
    expect(failing).toEqual(expected);
    for (const id of Object.keys(expected)) expect(run.stdout).toContain(`FAIL ${id} [`);
    // Each cause in the words the user reads.
    const named = summary.results.find((r) => r.backend === 'llama-server-cpu' && r.caseId === 'tool-call-named')!;
    expect(named.verdicts.find((v) => v.check === 'tool-call')!.message).toMatch(/^no tool call in the answer .*tool_choice named get_time, so the server ignored it$/);
    expect(run.stdout).toMatch(/FAIL llama-server-cpu\/smoke\/tool-call-named \[prompt-tokens\]: tools left out of the prompt: the backend read \d+ prompt tokens/);
    expect(run.stdout).toMatch(/FAIL llama-server-vulkan\/function-calling\/named-time-streamed \[sample\]: http-error: logprobs is not supported with tools \+ stream/);

    // Two kernel paths of one engine, and two engines on one kernel path, really were compared token by token.
    const compared = (backend: string) =>
      summary.results.filter((r) => r.backend === backend && r.verdicts.some((v) => v.check === 'greedy-divergence' && v.status === 'pass')).length;
    for (const backend of ['llama-server-vulkan', 'cpu', 'vulkan']) expect(compared(backend), backend).toBeGreaterThanOrEqual(15);
    // The reference's own unsupported cases are skipped against golden on the other engine, and say why.
    const cpuNamed = summary.results.find((r) => r.backend === 'cpu' && r.suite === 'smoke' && r.caseId === 'tool-call-named')!;
    expect(cpuNamed.status).toBe('pass');
    expect(cpuNamed.verdicts.find((v) => v.check === 'tool-call')!.status).toBe('pass');
    expect(cpuNamed.verdicts.find((v) => v.check === 'greedy-divergence')).toMatchObject({ status: 'skip', message: expect.stringContaining('could not serve it: answered, but failed its own prompt-tokens check: tools left out of the prompt') });
    // Prompts past the peer's 4,096-token context are skips on the peers that say so, and run on conform serve cpu.
    for (const peer of PEERS) {
      const long = summary.results.find((r) => r.backend === peer && r.caseId === 'ctx-16k')!;
      expect(long).toMatchObject({ status: 'skip' });
      expect(long.verdicts[0]!.message).toMatch(/serves 4096/);
    }
    expect(summary.results.find((r) => r.backend === 'cpu' && r.caseId === 'ctx-16k')!.status).toBe('pass');
  }, 1_500_000);

  it('conform backends shows what each peer refuses and ignores, in its own words', async () => {
    const probe = await conform(['backends', ...PEERS.flatMap((b) => ['--backend', b])], { cwd: project.dir });
    expect(probe.exitCode, probe.stderr).toBe(0);
    for (const peer of PEERS) {
      expect(probe.stdout).toMatch(new RegExp(`^${peer}\\s+yes\\s+\\S*conform-tiny\\S*\\s+.*\\s+yes\\s+no\\s+no\\s+no\\s+no$`, 'm'));
      expect(probe.stdout).toContain(`${peer} named tool_choice: no: tool_choice get_time ignored: answered without a tool call`);
      expect(probe.stdout).toContain(`${peer} json_schema: no: HTTP 400 Failed to initialize samplers: std::exception`);
    }
  }, 300_000);
});
