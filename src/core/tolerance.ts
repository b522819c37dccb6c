import type { Tolerance } from './types.ts';

// How the figures below were derived (bench/drift-matrix.ts reruns the measurement):
//
// prefixLogprobDelta δ bounds |Δlogprob| of the chosen token over the shared greedy prefix, but only at the
// positions where the comparison means something: the token inside both sides' top-k and not forced by a
// grammar (assertions/prefix-drift.ts). Measured over the default suites (smoke, function-calling,
// determinism, long-context to 4K) with the fixture model, 2026-12-01, max |Δ| over the compared positions:
// conform serve cpu vs vulkan 0.017 (p99 0.0077, 1,197 positions), llama-server cpu vs vulkan 0.011
// (p99 0.0058, 1,256), conform serve vs llama-server at most 0.009; no position forced or outside the top-5,
// no greedy divergence in any pair, mean KLD ≤ 6.6e-6. On a real model, llama.cpp b4748 CPU vs Vulkan drifted
// 0.099 before its first divergence (test/fixtures/llama-server-b4748). δ = 0.25 stays: 2.5x the real model's
// drift and 15x the fixture's. What pushed a healthy pair over it, 0.258 to 0.850 nats between llama-server
// CPU and Vulkan, sat on grammar-forced tokens at −8 to −21 nats, which are no longer compared.
//
// divergenceLogprobGap g bounds each side's gap at the first divergence. If every logprob may move by δ
// between healthy backends, golden's gap and the backend's gap can sum to 2δ and the flip is still healthy,
// so g = 2δ = 0.5: vllm-ascend's "within twice the logprob tolerance" (ANCHORS.md), by the same argument. The
// old 0.25 failed a rank-1/rank-2 swap between llama-server CPU and Vulkan whose tokens were 0.316 nats apart
// (a "confident flip" of two healthy backends); b4748's near-ties had gaps of 0.107 and 0.07.
const DELTA = 0.25;

/**
 * Default tolerances per backend class. Each figure cites its source; calibrate on real
 * backend pairs before changing one, and put the measurement in the commit message.
 */
export const TOLERANCE_BY_CLASS: Record<string, Tolerance> = {
  // vLLM check_logprobs_close defaults to num_logprobs=5 (ANCHORS.md).
  default: { topK: 5, divergenceLogprobGap: 2 * DELTA, prefixLogprobDelta: DELTA },
  // vLLM's CPU backend widens top-k to 6 (ANCHORS.md).
  cpu: { topK: 6, divergenceLogprobGap: 2 * DELTA, prefixLogprobDelta: DELTA },
  // Mesa llvmpipe runs ggml's Vulkan shaders on the CPU: different kernels, same fp32 maths as a GPU.
  'software-gpu': { topK: 5, divergenceLogprobGap: 2 * DELTA, prefixLogprobDelta: DELTA },
  gpu: { topK: 5, divergenceLogprobGap: 2 * DELTA, prefixLogprobDelta: DELTA },
  // vLLM's ROCm tests widen top-k from 5 to 10 (ANCHORS.md).
  rocm: { topK: 10, divergenceLogprobGap: 2 * DELTA, prefixLogprobDelta: DELTA },
  // vllm-ascend (#7455): reference token in the candidate's top 20, within twice the tolerance.
  npu: { topK: 20, divergenceLogprobGap: 4 * DELTA, prefixLogprobDelta: 2 * DELTA },
  // Q8_0 weights on ggml's CPU kernels against golden recorded with F32 weights, by the default
  // class's own recipe: 2.5x the largest |Δlogprob| of a chosen token over the shared greedy prefix.
  // Measured (conform serve cpu, fixture Q8_0 7335cc71…, every default suite, 41 cases with tokens):
  // that largest |Δlogprob| is 0.229 nats (p99 0.134), so 0.57; 16 cases part from golden, all with
  // both tokens in the other's top 6 (cpu's top-k) and gaps p50 0.085, max 0.264 nats. Q4_0 stays far
  // outside it: |Δlogprob| p99 0.69, max 1.05, gaps p50 1.23, max 3.76, 40 of 40 cases parted.
  //
  // Its healthy output also loops more: over the degeneration calibration (bench/degeneration-calibration.ts,
  // 117 requests per precision) the largest loop share is 0.50 ("9","5" ×6 in smoke/chat-multi-turn's 24
  // tokens, where max_tokens cuts a loop the model leaves at token 25 when given 96), against F32's and F16's
  // 0.33. loopCoverage 0.75 applies F32's own margin (0.5 / 0.33 = 1.5x) to it, and halves what is left to 1:
  // a degenerate backend loops to the end.
  //
  // Its next-token distributions drift further too: in a default run (every default suite, 20 cases with a
  // distribution verdict) RMS Δp of golden's token reached 2.40% (smoke/chat-stop-sequence; mean KLD 3.1e-3
  // there, the largest), against the check's 2.5%, so the selftest's must-pass faults (a rank swap, 0.01-nat
  // noise) took two healthy cases over it. maxRmsDeltaP 0.03 is the check's own 1.25x over its calibration
  // pair, applied to Q8_0's 2.40%; still far below q4_K_M's 5.5% (ANCHORS.md). Mean KLD keeps the default
  // 5e-3, already 1.6x Q8_0's 3.1e-3.
  'cpu-q8': { topK: 6, divergenceLogprobGap: 0.57, prefixLogprobDelta: 0.57, degeneration: { loopCoverage: 0.75 }, distribution: { maxRmsDeltaP: 0.03 } },
};

/**
 * Backend class first, then backend, suite and case overrides, each narrower one winning; the degeneration
 * and distribution limits field by field, so that a case setting one keeps the class's others.
 */
export function resolveTolerance(backendClass: string, ...overrides: Array<Partial<Tolerance> | undefined>): Tolerance {
  const base = TOLERANCE_BY_CLASS[backendClass] ?? TOLERANCE_BY_CLASS.default!;
  const layers = [base, ...overrides.filter((o): o is Partial<Tolerance> => o !== undefined)];
  const resolved: Tolerance = Object.assign({}, ...layers);
  for (const check of ['degeneration', 'distribution'] as const) {
    const limits = Object.assign({}, ...layers.map((l) => l[check] ?? {}));
    if (Object.keys(limits).length > 0) resolved[check] = limits;
    else delete resolved[check];
  }
  return resolved;
}

export const KNOWN_CLASSES = Object.keys(TOLERANCE_BY_CLASS);
