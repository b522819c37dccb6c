import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIRST_TOKEN_BASE_MS, MAX_FIRST_TOKEN_MS, PREFILL_SAFETY, REQUEST_BASE_MS, SILENCE_MS, estimatedPromptTokens, requestTimeouts } from '../../src/core/timeouts.ts';

// Prompt sizes of suites/long-context.yaml (UTF-8 bytes) and what the fixture model took to prefill them.
const CTX_4K_BYTES = 8_005;
const CTX_32K_BYTES = 66_787;

describe('requestTimeouts', () => {
  it('gives a short prompt the base limits', () => {
    const t = requestTimeouts({ backendClass: 'cpu', promptBytes: 40, streamed: true });
    expect(t).toMatchObject({ connectMs: 10_000, idleMs: SILENCE_MS });
    expect(t.firstTokenMs).toBeGreaterThanOrEqual(FIRST_TOKEN_BASE_MS);
    expect(t.firstTokenMs).toBeLessThan(FIRST_TOKEN_BASE_MS + 1_000);
    expect(t.firstByteMs).toBe(t.firstTokenMs);
    expect(t.totalMs).toBeGreaterThanOrEqual(REQUEST_BASE_MS);
  });

  it('leaves the in-field prefills room: ctx-32k on cpu and ctx-4k on software Vulkan hit a 30 s silence limit', () => {
    // Idle-machine prefills (DESIGN.md): cpu 32K in 30 s, llvmpipe 4K in 32 s. The limit covers them three times over.
    const cpu = requestTimeouts({ backendClass: 'cpu', promptBytes: CTX_32K_BYTES, declaredTokens: 32_000, streamed: true });
    expect(cpu.firstTokenMs).toBeGreaterThan(FIRST_TOKEN_BASE_MS + PREFILL_SAFETY * 30_000);
    const vulkan = requestTimeouts({ backendClass: 'software-gpu', promptBytes: CTX_4K_BYTES, declaredTokens: 4_000, streamed: true });
    expect(vulkan.firstTokenMs).toBeGreaterThan(FIRST_TOKEN_BASE_MS + PREFILL_SAFETY * 32_000);
    // The whole request grows by the same allowance, so it does not cut the prefill it just allowed.
    expect(cpu.totalMs).toBeGreaterThan(cpu.firstTokenMs);
    expect(vulkan.totalMs).toBeGreaterThan(vulkan.firstTokenMs);
  });

  it('expects software Vulkan to prefill tens of times slower than cpu', () => {
    const cpu = requestTimeouts({ backendClass: 'cpu', promptBytes: CTX_32K_BYTES, streamed: true });
    const vulkan = requestTimeouts({ backendClass: 'software-gpu', promptBytes: CTX_32K_BYTES, streamed: true });
    expect((vulkan.firstTokenMs - FIRST_TOKEN_BASE_MS) / (cpu.firstTokenMs - FIRST_TOKEN_BASE_MS)).toBeGreaterThan(10);
  });

  it('grows with the prompt and never shrinks', () => {
    fc.assert(
      fc.property(fc.constantFrom('cpu', 'gpu', 'software-gpu', 'npu', 'something-else'), fc.nat(2_000_000), fc.nat(2_000_000), (cls, a, b) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        const s = requestTimeouts({ backendClass: cls, promptBytes: small, streamed: true });
        const l = requestTimeouts({ backendClass: cls, promptBytes: large, streamed: true });
        expect(l.firstTokenMs).toBeGreaterThanOrEqual(s.firstTokenMs);
        expect(l.totalMs).toBeGreaterThanOrEqual(s.totalMs);
        expect(l.firstTokenMs).toBeLessThanOrEqual(MAX_FIRST_TOKEN_MS);
      }),
    );
  });

  it('takes a measured prefill slower than the class expects, scaled to the prompt, and says so', () => {
    // 4,000 bytes took 2 s: far slower than cpu's rate. A prompt 10 times larger may take up to 100 times longer.
    const measured = { promptBytes: 4_000, prefillMs: 2_000 };
    const t = requestTimeouts({ backendClass: 'cpu', promptBytes: 40_000, streamed: true, measured });
    expect(t.firstTokenMs).toBe(FIRST_TOKEN_BASE_MS + PREFILL_SAFETY * 200_000);
    expect(t.firstTokenBasis).toContain('the slowest prefill this backend has shown');
    // Smaller prompts scale linearly.
    expect(requestTimeouts({ backendClass: 'cpu', promptBytes: 2_000, streamed: true, measured }).firstTokenMs).toBe(FIRST_TOKEN_BASE_MS + PREFILL_SAFETY * 1_000);
  });

  it('never lets a measurement lower the class estimate, nor trusts one from a tiny prompt', () => {
    const byClass = requestTimeouts({ backendClass: 'software-gpu', promptBytes: 40_000, streamed: true });
    const fast = requestTimeouts({ backendClass: 'software-gpu', promptBytes: 40_000, streamed: true, measured: { promptBytes: 40_000, prefillMs: 1 } });
    expect(fast.firstTokenMs).toBe(byClass.firstTokenMs);
    const tiny = requestTimeouts({ backendClass: 'cpu', promptBytes: 40_000, streamed: true, measured: { promptBytes: 60, prefillMs: 500 } });
    expect(tiny.firstTokenMs).toBe(requestTimeouts({ backendClass: 'cpu', promptBytes: 40_000, streamed: true }).firstTokenMs);
  });

  it('lets the config set every limit, and keeps decoding time after a first-token limit set by hand', () => {
    const t = requestTimeouts({
      backendClass: 'cpu',
      promptBytes: 10,
      streamed: true,
      overrides: { connectTimeoutMs: 1, firstByteTimeoutMs: 2, firstTokenTimeoutMs: 3, idleTimeoutMs: 4, requestTimeoutMs: 5 },
    });
    expect(t).toMatchObject({ connectMs: 1, firstByteMs: 2, firstTokenMs: 3, idleMs: 4, totalMs: 5, firstTokenBasis: 'set by firstTokenTimeoutMs' });
    const long = requestTimeouts({ backendClass: 'cpu', promptBytes: 10, streamed: true, overrides: { firstTokenTimeoutMs: 600_000 } });
    expect(long.totalMs).toBeGreaterThan(600_000);
  });

  it('gives an unstreamed request headers as late as the whole answer', () => {
    const t = requestTimeouts({ backendClass: 'cpu', promptBytes: CTX_32K_BYTES, streamed: false });
    expect(t.firstByteMs).toBe(t.totalMs);
    expect(t.totalMs).toBeGreaterThan(REQUEST_BASE_MS);
  });

  it("gives cpu-q8 (Q8_0 weights on the CPU kernels) cpu's prefill rate, not an unknown class's", () => {
    const q8 = requestTimeouts({ backendClass: 'cpu-q8', promptBytes: CTX_32K_BYTES, streamed: true });
    expect(q8.firstTokenMs).toBe(requestTimeouts({ backendClass: 'cpu', promptBytes: CTX_32K_BYTES, streamed: true }).firstTokenMs);
  });

  it('gives an unknown class the slowest known rate', () => {
    const unknown = requestTimeouts({ backendClass: 'mystery', promptBytes: CTX_32K_BYTES, streamed: true });
    expect(unknown.firstTokenMs).toBe(requestTimeouts({ backendClass: 'software-gpu', promptBytes: CTX_32K_BYTES, streamed: true }).firstTokenMs);
  });
});

describe('estimatedPromptTokens', () => {
  it('overestimates the fixture tokenizer (2.09–2.15 bytes per token on the long-context filler)', () => {
    // golden/long-context.json: ctx-32k's 66,787 bytes were 31,456 prompt tokens.
    expect(estimatedPromptTokens(CTX_32K_BYTES)).toBeGreaterThanOrEqual(31_456);
    expect(estimatedPromptTokens(CTX_32K_BYTES)).toBeLessThan(31_456 * 1.1);
  });

  it('takes the case’s declared tokens when they are more', () => {
    expect(estimatedPromptTokens(100, 4_000)).toBe(4_000);
  });
});
