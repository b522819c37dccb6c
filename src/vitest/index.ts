// conform/vitest: conformance in a team's own vitest suites, and run records browsable in @vitest/ui.
export { conformMatchers, installConformMatchers, type ConformWithOptions } from './matchers.ts';
export { describeRunRecord } from './run-record-tests.ts';
