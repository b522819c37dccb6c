// The bare client of the request-rate ceiling (bench/ceiling.ts), run as a child process: `concurrency`
// loops that send the same requests conform sends, with the keep-alive pool's own `request` (the cheapest of
// undici's request APIs, and the one conform's runner uses; the top-level `request(url)` costs about 30% more
// CPU per request, since it parses its URL each time), and read each body to its end without parsing it. It
// gets a plan over IPC and answers with what it did and what it cost in CPU. Nothing but types may be
// imported from this file: importing it waits for a plan.

import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { caseRequest } from './conform-run.ts';

export interface LoopPlan {
  /** The chat completions URL. */
  url: string;
  concurrency: number;
  requests: number;
  stream: boolean;
}

export interface LoopDone {
  requests: number;
  failed: number;
  wallMs: number;
  /** User + system CPU this process spent in the loop, in ms. */
  cpuMs: number;
}

async function run(plan: LoopPlan): Promise<LoopDone> {
  const dispatcher = new Agent({ connections: plan.concurrency, keepAliveTimeout: 60_000 });
  const bodies = Array.from({ length: plan.requests }, (_, i) => JSON.stringify(caseRequest(i + 1, plan.stream)));
  const { origin, pathname } = new URL(plan.url);
  let next = 0;
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await dispatcher.request({ origin, path: pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
      for await (const _ of res.body);
      if (res.statusCode !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  await dispatcher.close();
  return { requests: bodies.length, failed, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

process.once('message', (plan: LoopPlan) => {
  run(plan).then(
    (done) => process.send?.(done, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
