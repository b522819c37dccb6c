import { describe, expect, it } from 'vitest';
import { unmetRequirement } from '../../src/core/backend-limits.ts';
import type { BackendConfig, Case } from '../../src/core/types.ts';

const needs = (contextTokens: number) => ({ id: 'long', requires: { contextTokens } }) as unknown as Case;
const vulkan: BackendConfig = { name: 'ls-vulkan', class: 'software-gpu', model: 'm', baseUrl: 'http://127.0.0.1:1/v1' };

describe('unmetRequirement', () => {
  it("names the server's own context first: raising maxPromptTokens cannot help there", () => {
    expect(unmetRequirement(needs(16_600), vulkan, { contextSize: 4096 })).toBe('needs 16600 tokens of context; ls-vulkan serves 4096');
  });
  it('names the class cap, and how to lift it, when the server could hold the prompt', () => {
    expect(unmetRequirement(needs(16_600), vulkan, { contextSize: 32_768 })).toMatch(/capped at 4096 prompt tokens in this profile \(raise maxPromptTokens to run it\)$/);
    expect(unmetRequirement(needs(16_600), { ...vulkan, maxPromptTokens: 32_768 }, { contextSize: 32_768 })).toBeUndefined();
  });
  it('lets a case without a requirement run', () => {
    expect(unmetRequirement({ id: 'short' } as unknown as Case, vulkan, { contextSize: 16 })).toBeUndefined();
  });
});
