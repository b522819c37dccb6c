import type { BackendConfig, ConformConfig } from '../core/types.ts';

/** What a config file may leave out; everything but the backends has a default. */
export type UserConfig = Partial<Omit<ConformConfig, 'backends'>> & { backends: BackendConfig[] };

/** Typed identity function for conform.config.ts, so editors check the config as it is written. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}
