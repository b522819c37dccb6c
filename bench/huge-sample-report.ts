// Benchmark, not a test: what writing the reports of a run holding one huge sample costs.
//
//   npx tsx bench/huge-sample-report.ts
//
// The run is the reporter fixture plus one case whose text is 90 M control characters and 135 M angle
// brackets (225 M characters; 675 MB once JSON-escaped, past V8's longest string in every format), the
// record test/reporters/huge-sample.test.ts checks byte for byte. Prints the wall time of each output and
// the process's peak RSS (the text itself takes about 225 MB of it).

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createJournal } from '../src/record/journal.ts';
import { createReporterSet } from '../src/reporters/index.ts';
import { hugeSummary } from '../test/reporters/huge-summary.ts';

const dir = mkdtempSync(join(tmpdir(), 'conform-bench-huge-'));
try {
  const rssBefore = process.resourceUsage().maxRSS;
  let t = performance.now();
  const summary = hugeSummary();
  const lap = (what: string, file?: string) => {
    const now = performance.now();
    console.log(`${what.padEnd(22)} ${((now - t) / 1000).toFixed(2).padStart(7)} s${file ? `  ${(statSync(join(dir, file)).size / 2 ** 20).toFixed(1)} MiB` : ''}`);
    t = now;
  };
  lap('build the record');
  const started = performance.now();
  createJournal(dir).append({ type: 'result', ...summary.results.at(-1)! });
  lap('journal line', 'samples.jsonl');
  for (const [name, file] of [['json', 'summary.json'], ['junit', 'junit.xml'], ['markdown', 'summary.md'], ['html', 'report.html']] as const) {
    const failures = createReporterSet([name], { write: () => {}, progress: false }).end(summary, dir);
    if (failures.length) console.log(failures[0]!.line);
    lap(name, file);
  }
  console.log(`all outputs            ${((performance.now() - started) / 1000).toFixed(2).padStart(7)} s`);
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (${(rssBefore / 1024).toFixed(0)} MiB before the record was built)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
