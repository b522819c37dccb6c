// Benchmark, not a test: how long parseSuite takes to read a large generated suite (issue 11), with the fast
// YAML reader and, as the baseline measured in the same process, with the slow path alone.
//
//   npx tsx bench/suite-load.ts     (node --expose-gc adds the heap each reading leaves allocated)
//
// Environment: BENCH_CASES (default 10000), BENCH_N (timed rounds per path after one warm-up, default 5).

import { parseSuite } from '../src/suites/parse-suite.ts';
import { envInt } from './bench-env.ts';

const cases = envInt('BENCH_CASES', 10_000);
const rounds = envInt('BENCH_N', 5);

/** The same shape as bench/scale.ts's generated suite: compact flow mappings, one check from defaults. */
function generatedSuite(n: number): string {
  const lines = ['suite: scale', 'description: scale bench', 'defaults:', '  endpoint: chat', '  params: { max_tokens: 16, temperature: 0 }', '  checks:', '    - { kind: max-tokens }', 'cases:'];
  for (let i = 0; i < n; i++) lines.push(`  - id: c${i}`, `    messages: [{ role: user, content: "Question number ${i}?" }]`);
  return `${lines.join('\n')}\n`;
}

const gc = (globalThis as { gc?: () => void }).gc;

function measure(text: string, fastRead: boolean): { ms: number; heapMb?: number } {
  parseSuite(text, 'suites/scale.yaml', { fastRead });
  const times: number[] = [];
  const heaps: number[] = [];
  for (let i = 0; i < rounds; i++) {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const suite = parseSuite(text, 'suites/scale.yaml', { fastRead });
    times.push(performance.now() - started);
    heaps.push(process.memoryUsage().heapUsed - heapBefore);
    if (suite.cases.length !== cases) throw new Error(`read ${suite.cases.length} cases, expected ${cases}`);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { ms: median(times), heapMb: gc ? median(heaps) / 2 ** 20 : undefined };
}

const text = generatedSuite(cases);
const slow = measure(text, false);
const fast = measure(text, true);
const heap = (m: { heapMb?: number }) => (m.heapMb === undefined ? '' : `, ${m.heapMb.toFixed(1)} MB heap left allocated`);
console.log(`parseSuite of ${cases.toLocaleString('en-US')} cases (${(text.length / 1024).toFixed(0)} KB), median of ${rounds}:`);
console.log(`  slow path (yaml Document): ${slow.ms.toFixed(1)} ms${heap(slow)}`);
console.log(`  fast path (js-yaml):       ${fast.ms.toFixed(1)} ms${heap(fast)}`);
console.log(`  ratio: ${(fast.ms / slow.ms).toFixed(3)} (${(slow.ms / fast.ms).toFixed(1)}x faster)`);
