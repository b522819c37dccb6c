import { describe, expect, it } from 'vitest';
import { compareInRun, decidePromotions } from '../../src/manifest/promote.ts';
import { plan, run, syntheticHistory } from './promote-history.ts';

describe('manifest update: promotion needs a significant win in each of the last N runs', () => {
  it('promotes the variant that won 3 of 3, and says why the others stay', () => {
    const [decision] = decidePromotions(syntheticHistory(), {}, { stable: 3, metric: 'ttft-p50' });
    expect(decision!.promoted).toBe('cpu@fast');
    expect(decision!.reason).toMatch(/^cpu: cpu@fast promoted over cpu: passed every suite and beat it on TTFT in each of the last 3 runs \(newest: median TTFT 0\.70\dx/);
    const wins = Object.fromEntries(decision!.variants.map((v) => [v.plan, v.wins]));
    expect(wins).toEqual({ 'cpu@broken': 2, 'cpu@fast': 3, 'cpu@lucky': 2, 'cpu@slow': 0 });
    const broken = decision!.variants.find((v) => v.plan === 'cpu@broken')!;
    expect(broken.runs[1]!.why).toBe('did not pass every suite (smoke 1 failed, 0 errors)');
    const lucky = decision!.variants.find((v) => v.plan === 'cpu@lucky')!;
    expect(lucky.runs[2]!.why).toMatch(/^no significant win: median TTFT 1\.000x/);
  });

  it('does not promote a variant that won only twice: with stable 3 and only lucky and slow left, cpu stays', () => {
    const history = syntheticHistory();
    for (const r of history.runs) for (const name of ['cpu@fast', 'cpu@broken']) delete r.plans[name];
    const [decision] = decidePromotions(history, {}, { stable: 3, metric: 'ttft-p50' });
    expect(decision!.promoted).toBeUndefined();
    expect(decision!.reason).toBe('cpu: cpu stays; no variant won all of the last 3 runs (best: cpu@lucky, 2 of 3)');
    // The same variant is promoted once two wins in a row are enough.
    expect(decidePromotions(history, {}, { stable: 2, metric: 'ttft-p50' })[0]!.promoted).toBe('cpu@lucky');
  });

  it('compares with the current plan: once fast is recommended, lucky (slower than fast) does not replace it', () => {
    const [decision] = decidePromotions(syntheticHistory(), { cpu: 'cpu@fast' }, { stable: 3, metric: 'ttft-p50' });
    expect(decision!.current).toBe('cpu@fast');
    expect(decision!.promoted).toBeUndefined();
    expect(decision!.variants.map((v) => v.plan)).toEqual(['cpu', 'cpu@broken', 'cpu@lucky', 'cpu@slow']);
  });

  it('needs as many runs as asked, enough paired cases, and a win in the metric chosen', () => {
    expect(decidePromotions(syntheticHistory(), {}, { stable: 5, metric: 'ttft-p50' })[0]!.reason).toBe('cpu: only 4 run(s) in the history, 5 needed; cpu stays');
    const few = run(9, [plan('cpu@fast', 0.7)]);
    for (const name of Object.keys(few.plans)) few.plans[name]!.cases = Object.fromEntries(Object.entries(few.plans[name]!.cases).slice(0, 5));
    expect(compareInRun(few, few.plans['cpu@fast'], few.plans.cpu, { stable: 1, metric: 'ttft-p50', alpha: 0.01, minSamples: 8 }).why).toBe('5 paired TTFT cases, fewer than 8');
    // tokens/s: higher is better, so the slow variant loses and the fast one wins.
    const [byRate] = decidePromotions(syntheticHistory(), {}, { stable: 3, metric: 'tokens-per-second' });
    expect(byRate!.promoted).toBe('cpu@fast');
    expect(byRate!.variants.find((v) => v.plan === 'cpu@slow')!.wins).toBe(0);
  });
});
