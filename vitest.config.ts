import { defineConfig } from 'vitest/config';

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
