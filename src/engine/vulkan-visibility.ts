import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const PROBE = new URL('./vulkan-probe-child.mjs', import.meta.url);

/** Lists the Vulkan devices llama.cpp would use with the given environment, or undefined if Vulkan cannot load at all. */
export async function probeVulkanDevices(env: NodeJS.ProcessEnv): Promise<string[] | undefined> {
  try {
    const { stdout } = await run(process.execPath, [fileURLToPath(PROBE)], { env, timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { gpu: string | false; devices: string[] };
    return result.gpu === 'vulkan' ? result.devices : undefined;
  } catch {
    return undefined;
  }
}

/**
 * llama.cpp skips CPU-type Vulkan devices such as Mesa's llvmpipe unless GGML_VK_VISIBLE_DEVICES
 * names them. When no other device is visible, name device 0 so software Vulkan still runs.
 * Returns a note for the log, or throws when there is no Vulkan device at all.
 */
export async function ensureVulkanVisibility(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.GGML_VK_VISIBLE_DEVICES !== undefined) return `GGML_VK_VISIBLE_DEVICES=${env.GGML_VK_VISIBLE_DEVICES} (set by the caller)`;
  const visible = await probeVulkanDevices(env);
  if (visible === undefined) throw new Error('the Vulkan runtime could not load (install libvulkan1 and a Vulkan driver, e.g. mesa-vulkan-drivers)');
  if (visible.length > 0) return `Vulkan devices: ${visible.join(', ')}`;
  const withCpuDevices = await probeVulkanDevices({ ...env, GGML_VK_VISIBLE_DEVICES: '0' });
  if (!withCpuDevices?.length) throw new Error('no Vulkan device found, not even a CPU-type one such as llvmpipe');
  env.GGML_VK_VISIBLE_DEVICES = '0';
  return `only a CPU-type Vulkan device is present (${withCpuDevices.join(', ')}); set GGML_VK_VISIBLE_DEVICES=0`;
}
