import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { DEFAULT_CONFIG } from '../../src/config/default-config.ts';
import { resolveTolerance, TOLERANCE_BY_CLASS } from '../../src/core/tolerance.ts';
import { expandVariants } from '../../src/core/variants.ts';
import { REPO } from '../helpers/conform-cli.ts';

describe("the built-in matrix's plan variants", () => {
  it("are the same in the default config and in this clone's conform.config.ts", async () => {
    const { config } = await loadConfig(REPO);
    expect(config.backends.map((b) => [b.name, b.variants])).toEqual(DEFAULT_CONFIG.backends.map((b) => [b.name, b.variants]));
    // The backends themselves too: name, class, launch and price.
    expect(config.backends).toEqual(DEFAULT_CONFIG.backends);
  });

  it('put a quantized backend in the matrix: Q8_0 weights on cpu, class cpu-q8, golden still recorded on cpu', () => {
    const q8 = DEFAULT_CONFIG.backends.find((b) => b.name === 'cpu-q8')!;
    expect(q8.class).toBe('cpu-q8');
    expect(q8.launch!.args.join(' ')).toBe('serve --gpu cpu --weights q8_0 --model {model} --port {port} --threads 1');
    expect(DEFAULT_CONFIG.reference).toBe('cpu');
  });

  it('give flash attention off, a KV cache type, a batch size, threads and two weight precisions of cpu', () => {
    const expanded = expandVariants(DEFAULT_CONFIG.backends);
    expect(expanded.map((b) => b.name)).toEqual(['cpu', 'cpu@fa-off', 'cpu@kv-f32', 'cpu@batch-128', 'cpu@threads-2', 'cpu@f16', 'cpu@q8_0', 'cpu-q8', 'vulkan']);
    const args = (name: string) => expanded.find((b) => b.name === name)!.launch!.args.join(' ');
    expect(args('cpu@fa-off')).toMatch(/--flash-attention off$/);
    expect(args('cpu@threads-2')).toMatch(/--threads 2$/);
    expect(args('cpu@threads-2')).not.toMatch(/--threads 1/);
    expect(args('cpu@q8_0')).toMatch(/--model \{model\} .*--weights q8_0$/);
    expect(expanded.find((b) => b.name === 'cpu@q8_0')!.class).toBe('cpu-q8');
  });

  it('judge Q8_0 weights with a class of its own, wider than cpu, as measured', () => {
    expect(resolveTolerance('cpu-q8')).toEqual({ topK: 6, divergenceLogprobGap: 0.57, prefixLogprobDelta: 0.57, degeneration: { loopCoverage: 0.75 }, distribution: { maxRmsDeltaP: 0.03 } });
    expect(TOLERANCE_BY_CLASS['cpu-q8']!.prefixLogprobDelta).toBeGreaterThan(TOLERANCE_BY_CLASS.cpu!.prefixLogprobDelta);
  });
});
