/**
 * A limit may be one number or a number per backend class (with `default`), since software Vulkan
 * is tens of times slower than a GPU or even ggml's CPU kernels on the same machine.
 */
export function budgetForClass(value: unknown, backendClass: string | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object') {
    const byClass = value as Record<string, unknown>;
    const picked = byClass[backendClass ?? ''] ?? byClass.default;
    return typeof picked === 'number' ? picked : undefined;
  }
  return undefined;
}
