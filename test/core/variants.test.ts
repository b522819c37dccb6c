import { describe, expect, it } from 'vitest';
import { applyVariantArgs, expandVariants, parseVariantName } from '../../src/core/variants.ts';
import type { BackendConfig } from '../../src/core/types.ts';

const cpu: BackendConfig = {
  name: 'cpu',
  class: 'cpu',
  model: 'conform-tiny',
  tolerance: { topK: 6 },
  launch: { command: 'conform', args: ['serve', '--gpu', 'cpu', '--model', '{model}', '--port', '{port}', '--threads', '1'], env: { A: '1' } },
  variants: [
    { name: 'fa-off', set: { '--flash-attention': 'off' } },
    { name: 'threads-2', set: { '--threads': '2' } },
    { name: 'q8', set: { '--weights': 'q8_0' }, class: 'cpu-q8', tolerance: { divergenceLogprobGap: 0.5 }, env: { B: '2' } },
  ],
};

describe('plan variants', () => {
  it('replaces a flag value in place, appends a flag the args lack, and appends extra args last', () => {
    const args = ['serve', '--threads', '1', '--jinja'];
    expect(applyVariantArgs(args, { set: { '--threads': '2' } })).toEqual(['serve', '--threads', '2', '--jinja']);
    expect(applyVariantArgs(args, { set: { '--batch-size': '64' } })).toEqual(['serve', '--threads', '1', '--jinja', '--batch-size', '64']);
    // A flag present without a value gets one, and what follows it is kept.
    expect(applyVariantArgs(args, { set: { '--jinja': 'on' } })).toEqual(['serve', '--threads', '1', '--jinja', 'on']);
    expect(applyVariantArgs(args, { append: ['-x'] })).toEqual([...args, '-x']);
    expect(args).toEqual(['serve', '--threads', '1', '--jinja']);
  });

  it('expands each backend into itself and its variants, named <backend>@<variant>, in config order', () => {
    const vulkan: BackendConfig = { name: 'vulkan', class: 'software-gpu', model: 'conform-tiny', launch: { command: 'conform', args: ['serve'] } };
    const expanded = expandVariants([cpu, vulkan]);
    expect(expanded.map((b) => b.name)).toEqual(['cpu', 'cpu@fa-off', 'cpu@threads-2', 'cpu@q8', 'vulkan']);
    expect(expanded[0]).toBe(cpu);
    const [, faOff, threads, q8] = expanded;
    expect(faOff!.launch!.args).toEqual([...cpu.launch!.args, '--flash-attention', 'off']);
    expect(threads!.launch!.args.slice(-2)).toEqual(['--threads', '2']);
    expect(faOff!.variants).toBeUndefined();
    expect(faOff!.class).toBe('cpu');
    expect(faOff!.tolerance).toEqual({ topK: 6 });
    expect(q8!.class).toBe('cpu-q8');
    expect(q8!.tolerance).toEqual({ topK: 6, divergenceLogprobGap: 0.5 });
    expect(q8!.launch!.env).toEqual({ A: '1', B: '2' });
    expect(cpu.launch!.args).not.toContain('--weights');
  });

  it('tells a variant name from a plain backend name', () => {
    expect(parseVariantName('cpu@fa-off')).toEqual({ backend: 'cpu', variant: 'fa-off' });
    expect(parseVariantName('cpu')).toBeUndefined();
  });
});
