// Loaded with `node --import` into a process a benchmark times: on exit it writes the process's own
// resource usage (CPU time, peak RSS; process.resourceUsage()) as JSON to $BENCH_RUSAGE_OUT. Node has no
// getrusage(RUSAGE_CHILDREN), so the child reports itself; plain JavaScript, so it costs no compile.
import { writeFileSync } from 'node:fs';

const out = process.env.BENCH_RUSAGE_OUT;
if (out) {
  delete process.env.BENCH_RUSAGE_OUT; // a child process of the timed one must not overwrite its figures
  process.on('exit', () => writeFileSync(out, JSON.stringify(process.resourceUsage())));
}
