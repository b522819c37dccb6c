import { maxTokensIgnored, promptTruncated, reasoningMoved, seedDropped, textNotTokens } from './answer-faults.ts';
import type { FaultDefinition } from './fault.ts';
import { forcedTokenRawLogprob, rankSwapFlip } from './healthy-drift.ts';
import { errorInStream, truncatedStream, ttftInflated, usageWrong } from './protocol-faults.ts';
import { concurrentNondeterminism, outputLeak } from './state-faults.ts';
import { confidentTokenFlip, garbageAfterLongPrompt, jsonSchemaIgnored, logprobNoise, nearTieFlip, seedIgnored, stopIgnored } from './token-faults.ts';
import { namedToolChoiceIgnored, parallelShareIndex, toolArgumentsObject, toolCallsDroppedStreaming } from './tool-faults.ts';

export type { FaultContext, FaultDefinition } from './fault.ts';

/** Logprob noise conform must flag: well above the 0.25-nat prefix tolerance. */
export const LARGE_NOISE_NATS = 0.6;
/** Logprob noise conform must not flag: a tenth of the 0.099-nat drift measured between real CPU and Vulkan kernels. */
export const SMALL_NOISE_NATS = 0.01;

/** Every fault the selftest injects, by name: the must-catch ones first. */
export const FAULTS: ReadonlyMap<string, FaultDefinition> = new Map(
  [
    confidentTokenFlip,
    garbageAfterLongPrompt,
    logprobNoise('logprob-noise-large', 'must-catch', LARGE_NOISE_NATS),
    truncatedStream,
    errorInStream,
    toolArgumentsObject,
    parallelShareIndex,
    toolCallsDroppedStreaming,
    namedToolChoiceIgnored,
    jsonSchemaIgnored,
    stopIgnored,
    seedIgnored,
    seedDropped,
    textNotTokens,
    reasoningMoved,
    maxTokensIgnored,
    promptTruncated,
    usageWrong,
    ttftInflated,
    outputLeak,
    concurrentNondeterminism,
    nearTieFlip,
    rankSwapFlip,
    forcedTokenRawLogprob,
    logprobNoise('logprob-noise-small', 'must-pass', SMALL_NOISE_NATS),
  ].map((f) => [f.name, f]),
);
