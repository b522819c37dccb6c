import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFixtureModel } from '../../src/engine/fixture-model/create-fixture-model.ts';
import { conform, makeProject } from '../helpers/conform-cli.ts';

describe('conform serve precision and plan flags', () => {
  it('serves a precision variant only of the f32 fixture: another model is "unavailable here" (exit 69), with the reason', async () => {
    const project = makeProject([]);
    const other = join(project, 'other.gguf');
    writeFileSync(other, buildFixtureModel('f16'));
    const result = await conform(['serve', '--gpu', 'cpu', '--model', other, '--weights', 'q8_0', '--port', '0'], { cwd: project, timeout: 60_000 });
    expect(result.exitCode).toBe(69);
    expect(result.stderr).toMatch(/unavailable: --weights q8_0 derives the fixture model's q8_0 variant, but --model .*other\.gguf is not the f32 fixture/);
  });

  it('conform model create --weights writes the fixture at that precision, at its pinned sha256', async () => {
    const project = makeProject([]);
    const result = await conform(['model', 'create', '--weights', 'q8_0'], { cwd: project, timeout: 60_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${join(project, 'conform-tiny-q8_0.gguf')}\nsha256 7335cc710dea104b3819b994b80a3c1ffdc2ef0137d306eabb0d3966ab1da356 (258176 bytes)`);
  });

  it('names the flag and an example for a value it does not know', async () => {
    const project = makeProject([]);
    for (const [flag, value, example] of [['--weights', 'q5_k', 'q8_0'], ['--kv-cache-type', 'bf16', 'q8_0'], ['--batch-size', '0', '512']] as const) {
      const result = await conform(['serve', flag, value], { cwd: project, timeout: 60_000 });
      expect(result.exitCode, flag).toBe(2);
      expect(result.stderr, flag).toContain(`${flag} "${value}"`);
      expect(result.stderr, flag).toContain(`for example ${flag} ${example}`);
    }
  });
});
