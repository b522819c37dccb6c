import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/conform-cli.ts';

const run = (env: Record<string, string>) =>
  execa(process.execPath, [`${REPO}/node_modules/vitest/vitest.mjs`, 'run', 'test/core/summary.test.ts'], { cwd: REPO, env: { ...env, TERM: 'xterm' }, extendEnv: false, reject: false, all: true });

describe('vitest output in CI', () => {
  it('has no ANSI escape codes with CI=true, and keeps them when FORCE_COLOR asks', async () => {
    const plain = await run({ CI: 'true', PATH: process.env.PATH ?? '' });
    expect(plain.exitCode, plain.all).toBe(0);
    expect(plain.all).toContain('1 passed');
    expect(plain.all).not.toContain('\u001b[');
    const forced = await run({ CI: 'true', FORCE_COLOR: '1', PATH: process.env.PATH ?? '' });
    expect(forced.all).toContain('\u001b[');
  }, 60_000);
});
