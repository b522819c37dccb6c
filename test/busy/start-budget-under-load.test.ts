// Start budgets on a loopback server whose start the test controls, once on the machine as it is and once with
// a CPU hog beside it: a good start passes both times, a real regression fails both times.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { BackendConfig, Case, Status, Verdict } from '../../src/core/types.ts';
import { judgeSample } from '../../src/run/judge.ts';
import { runLifecycleCase } from '../../src/run/lifecycle.ts';
import { REPO } from '../helpers/conform-cli.ts';
import { withCpuHog } from '../helpers/cpu-hog.ts';

const SERVER = join(REPO, 'test', 'fixtures', 'servers', 'start-server.mjs');

function backend(args: string[], readyTimeoutMs = 60_000): BackendConfig {
  return { name: 'fixture', class: 'gpu', model: 'start', launch: { command: process.execPath, args: [SERVER, '{port}', ...args], readyTimeoutMs } };
}

const coldCase: Case = {
  id: 'cold-start',
  endpoint: 'lifecycle',
  messages: [{ role: 'user', content: 'Hello' }],
  params: { max_tokens: 1 },
  lifecycle: { start: 'cold', steadyRequests: 3 },
  // 1.5 s from spawn to first answer: a node server that listens and answers at once needs a fraction of that.
  checks: [{ kind: 'start-budget', spawnToReadyMs: 1500, firstAnswerMs: 1000 }],
};

async function startVerdict(config: BackendConfig, testCase: Case): Promise<Verdict[]> {
  const logDir = mkdtempSync(join(tmpdir(), 'conform-start-'));
  const sample = await runLifecycleCase(config, testCase, { modelPath: 'unused', env: process.env, logFile: join(logDir, 'fixture.log') });
  return judgeSample({ testCase, sample, golden: undefined, backend: config, siblings: new Map() });
}

/** The verdict of one start on the machine as it is, then beside a hog (default: one spinning thread per core). */
async function quietAndBusy(config: BackendConfig, testCase = coldCase, hogThreads?: number): Promise<Array<{ status: Status; verdicts: Verdict[] }>> {
  const out = [];
  for (const busy of [false, true]) {
    const verdicts = busy ? await withCpuHog(() => startVerdict(config, testCase), hogThreads) : await startVerdict(config, testCase);
    out.push({ status: verdicts.some((v) => v.status === 'error') ? 'error' : verdicts.some((v) => v.status === 'fail') ? 'fail' : 'pass', verdicts } as const);
  }
  return out;
}

describe.runIf(process.platform === 'linux')('start budgets beside a CPU hog', () => {
  it('passes a good cold start both quiet and busy', async () => {
    const [quiet, busy] = await quietAndBusy(backend(['--cold-cpu-ms', '50']));
    expect(quiet!.status, quiet!.verdicts[0]?.message).toBe('pass');
    expect(busy!.status, busy!.verdicts[0]?.message).toBe('pass');
  }, 180_000);

  it('must catch, quiet and busy: a cold start that computes for 3 s before it listens', async () => {
    const [quiet, busy] = await quietAndBusy(backend(['--cold-cpu-ms', '3000']));
    for (const run of [quiet!, busy!]) {
      expect(run.status, run.verdicts[0]?.message).toBe('fail');
      expect(run.verdicts[0]!.message).toMatch(/spawn to first answer \d+ ms > 1500 ms/);
    }
  }, 240_000);

  it('must catch, quiet and busy: healthy at once but silent for 3 s before its first answer', async () => {
    const [quiet, busy] = await quietAndBusy(backend(['--first-sleep', '3000']));
    for (const run of [quiet!, busy!]) {
      expect(run.status, run.verdicts[0]?.message).toBe('fail');
      expect(run.verdicts[0]!.message).toMatch(/> 1500 ms \(\d+ ms with the CPU wait taken out\)$/);
    }
  }, 180_000);

  it('reports a server that never answers as an error with its cause, quiet and busy', async () => {
    const [quiet, busy] = await quietAndBusy(backend(['--never-answer'], 3000));
    for (const run of [quiet!, busy!]) {
      expect(run.status).toBe('error');
      expect(run.verdicts[0]!.message).toMatch(/^crash: cold start failed: healthy, but the first request failed/);
    }
  }, 180_000);

  describe('the ready timeout counts the backend’s own time', () => {
    // Twice as many spinning threads as cores: the server gets at most about a third of a core, so 1 s of work
    // takes 3 s or more of wall time, over the 2.5 s limit.
    const hogThreads = 2 * availableParallelism();
    const generous: Case = { ...coldCase, checks: [{ kind: 'start-budget', spawnToReadyMs: 10_000 }] };

    it('does not time out a start the machine slowed: 1 s of CPU before it listens, 2.5 s allowed', async () => {
      const [quiet, busy] = await quietAndBusy(backend(['--cold-cpu-ms', '1000'], 2500), generous, hogThreads);
      expect(quiet!.status, quiet!.verdicts[0]?.message).toBe('pass');
      expect(busy!.status, busy!.verdicts[0]?.message).toBe('pass');
    }, 180_000);

    it('still times out a server that computes forever, quiet and busy', async () => {
      const [quiet, busy] = await quietAndBusy(backend(['--cold-cpu-ms', '1e12'], 2500), generous, hogThreads);
      for (const run of [quiet!, busy!]) {
        expect(run.status).toBe('error');
        expect(run.verdicts[0]!.message).toMatch(/^crash: cold start failed: not healthy after 2500 ms of its own time \(\d+ ms in all\)/);
      }
    }, 180_000);
  });
});
