import type { BackendConfig, BackendIdentity, Case } from './types.ts';

/**
 * Prompt caps by class, so the default profile fits CI's 90 minutes. Software Vulkan (llvmpipe)
 * prefilled 16K tokens in 207 s and 32K in over 5 min on a 2-core machine (DESIGN.md); real GPUs
 * take the long lengths through `maxPromptTokens` in an opt-in config.
 */
export const PROMPT_CAP_BY_CLASS: Record<string, number> = { 'software-gpu': 4096 };

/** Why a backend cannot run a case, or undefined when it can. Pure: the caller reports it as a skip. */
export function unmetRequirement(testCase: Case, backend: BackendConfig, identity: BackendIdentity): string | undefined {
  const needed = testCase.requires?.contextTokens;
  if (needed === undefined) return undefined;
  // The server's own context first: raising maxPromptTokens cannot help a case the server cannot hold.
  if (identity.contextSize !== undefined && needed > identity.contextSize)
    return `needs ${needed} tokens of context; ${backend.name} serves ${identity.contextSize}`;
  const cap = backend.maxPromptTokens ?? PROMPT_CAP_BY_CLASS[backend.class];
  if (cap !== undefined && needed > cap)
    return `needs ${needed} tokens of context; ${backend.name} (class ${backend.class}) is capped at ${cap} prompt tokens in this profile (raise maxPromptTokens to run it)`;
  return undefined;
}
