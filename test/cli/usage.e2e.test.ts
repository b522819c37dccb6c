import { describe, expect, it } from 'vitest';
import { conform, makeProject } from '../helpers/conform-cli.ts';

describe('usage errors', () => {
  it('name the command once, in one line, with exit 2', async () => {
    const project = makeProject([]);
    const cases: Array<[string[], string]> = [
      [['run', '--no-such-flag'], `conform run: Unknown option '--no-such-flag'. See "conform run --help".`],
      [['report', 'a', 'b'], 'conform report: one run folder at a time, got 2. See "conform report --help".'],
      [['merge'], 'conform merge: name the run folders or summary.json files to merge. See "conform merge --help".'],
    ];
    for (const [args, expected] of cases) {
      const r = await conform(args, { cwd: project });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe(expected);
    }
  }, 60_000);
});
