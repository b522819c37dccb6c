import type { Tolerance } from './types.ts';

/**
 * Default tolerances per backend class. Each figure cites its source; calibrate on real
 * backend pairs before changing one, and put the measurement in the commit message.
 */
export const TOLERANCE_BY_CLASS: Record<string, Tolerance> = {
  // vLLM check_logprobs_close defaults to num_logprobs=5 (ANCHORS.md). The 0.25-nat gap is
  // 2.5x the largest |Δlogprob| on a chosen token before the first divergence between
  // llama.cpp b4748 CPU and Vulkan (0.099, fixtures/llama-server-b4748 chat-logprobs), whose
  // two near-tie flips had gaps of 0.107 and 0.07 nats.
  default: { topK: 5, divergenceLogprobGap: 0.25, prefixLogprobDelta: 0.25 },
  // vLLM's CPU backend widens top-k to 6 (ANCHORS.md).
  cpu: { topK: 6, divergenceLogprobGap: 0.25, prefixLogprobDelta: 0.25 },
  // Mesa llvmpipe runs ggml's Vulkan shaders on the CPU: different kernels, same fp32 maths as a GPU.
  'software-gpu': { topK: 5, divergenceLogprobGap: 0.25, prefixLogprobDelta: 0.25 },
  gpu: { topK: 5, divergenceLogprobGap: 0.25, prefixLogprobDelta: 0.25 },
  // vLLM's ROCm tests widen top-k from 5 to 10 (ANCHORS.md).
  rocm: { topK: 10, divergenceLogprobGap: 0.25, prefixLogprobDelta: 0.25 },
  // vllm-ascend (#7455): reference token in the candidate's top 20, within twice the tolerance.
  npu: { topK: 20, divergenceLogprobGap: 0.5, prefixLogprobDelta: 0.5 },
  // Q8_0 weights on ggml's CPU kernels against golden recorded with F32 weights, by the default
  // class's own recipe: 2.5x the largest |Δlogprob| of a chosen token over the shared greedy prefix.
  // Measured (conform serve cpu, fixture Q8_0 7335cc71…, every default suite, 41 cases with tokens):
  // that largest |Δlogprob| is 0.229 nats (p99 0.134), so 0.57; 16 cases part from golden, all with
  // both tokens in the other's top 6 (cpu's top-k) and gaps p50 0.085, max 0.264 nats. Q4_0 stays far
  // outside it: |Δlogprob| p99 0.69, max 1.05, gaps p50 1.23, max 3.76, 40 of 40 cases parted.
  'cpu-q8': { topK: 6, divergenceLogprobGap: 0.57, prefixLogprobDelta: 0.57 },
};

/** Backend class first, then backend, suite and case overrides, each narrower one winning. */
export function resolveTolerance(backendClass: string, ...overrides: Array<Partial<Tolerance> | undefined>): Tolerance {
  const base = TOLERANCE_BY_CLASS[backendClass] ?? TOLERANCE_BY_CLASS.default!;
  return Object.assign({}, base, ...overrides.filter(Boolean));
}

export const KNOWN_CLASSES = Object.keys(TOLERANCE_BY_CLASS);
