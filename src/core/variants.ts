// Plan variants: a backend's named alternatives (flash attention, KV cache type, batch, threads,
// weights) become extra backends of the same run, so that the golden suites judge each one.

import type { BackendConfig, LaunchConfig, VariantConfig } from './types.ts';

/** Separates a backend's name from its variant's in `<backend>@<variant>`; config names cannot contain it. */
export const VARIANT_SEPARATOR = '@';

/** The launch args with the variant's flags set (replacing a flag's value in place, else appended) and its extra args appended. */
export function applyVariantArgs(args: readonly string[], variant: Pick<VariantConfig, 'set' | 'append'>): string[] {
  const out = [...args];
  for (const [flag, value] of Object.entries(variant.set ?? {})) {
    const at = out.indexOf(flag);
    if (at >= 0 && at + 1 < out.length && !out[at + 1]!.startsWith('--')) out[at + 1] = value;
    else if (at >= 0) out.splice(at + 1, 0, value);
    else out.push(flag, value);
  }
  return [...out, ...(variant.append ?? [])];
}

/** One variant of a launched backend as a backend of its own, named `<backend>@<variant>`. */
export function variantBackend(base: BackendConfig & { launch: LaunchConfig }, variant: VariantConfig): BackendConfig {
  const { variants: _variants, ...rest } = base;
  const launch: LaunchConfig = { ...base.launch, args: applyVariantArgs(base.launch.args, variant) };
  if (variant.env) launch.env = { ...base.launch.env, ...variant.env };
  const backend: BackendConfig = { ...rest, name: `${base.name}${VARIANT_SEPARATOR}${variant.name}`, launch, class: variant.class ?? base.class };
  if (variant.tolerance) backend.tolerance = { ...base.tolerance, ...variant.tolerance };
  return backend;
}

/** Each backend followed by its variants, in config order; backends without variants pass through unchanged. */
export function expandVariants(backends: readonly BackendConfig[]): BackendConfig[] {
  return backends.flatMap((backend) => {
    if (!backend.launch || !backend.variants?.length) return [backend];
    const base = backend as BackendConfig & { launch: LaunchConfig };
    return [backend, ...backend.variants.map((variant) => variantBackend(base, variant))];
  });
}

/** The base backend and variant a run-record backend name stands for, or undefined for a plain backend. */
export function parseVariantName(name: string): { backend: string; variant: string } | undefined {
  const at = name.indexOf(VARIANT_SEPARATOR);
  return at > 0 ? { backend: name.slice(0, at), variant: name.slice(at + 1) } : undefined;
}
