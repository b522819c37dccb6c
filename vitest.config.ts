import { defineConfig } from 'vitest/config';

// Vitest's colour library turns colours on whenever CI is set (and on any terminal but TERM=dumb), so CI
// logs that do not render ANSI fill with escape codes. With CI set and no FORCE_COLOR, output is plain:
// workers get NO_COLOR before they start, and this process, whose colours were decided before the config
// was read, has the codes stripped on the way out.
if (process.env.CI && !('FORCE_COLOR' in process.env)) {
  process.env.NO_COLOR = '1';
  const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(typeof chunk === 'string' ? chunk.replace(ANSI, '') : Buffer.isBuffer(chunk) ? Buffer.from(chunk.toString('utf8').replace(ANSI, '')) : chunk, ...rest)) as typeof stream.write;
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The end-to-end tests start real llama.cpp servers; a cold Vulkan start compiles pipelines for tens of seconds.
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Two cores: engine tests in parallel would measure each other's contention, not conform.
    fileParallelism: false,
  },
});
