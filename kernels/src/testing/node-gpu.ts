/**
 * Node-only: a WebGPU implementation for tests and the bench launcher through the `webgpu`
 * package (Dawn). Without a GPU, Dawn falls back to SwiftShader's Vulkan driver shipped with
 * Debian's Chromium, which needs two things the package does not do for us:
 *  - VK_ICD_FILENAMES pointing at SwiftShader's ICD (read when Dawn first loads Vulkan);
 *  - libvulkan.so.1, which Debian ships only inside /usr/lib/chromium. LD_LIBRARY_PATH is read at
 *    process start, so we preload the loader by path instead: dlopen with RTLD_GLOBAL, and
 *    RTLD_NODELETE (0x1000 in glibc) so it stays loaded after Node rejects it as an addon; Dawn's
 *    later dlopen("libvulkan.so.1") then finds it by soname.
 * Never import this from browser code.
 */
import { existsSync } from 'node:fs';
import { constants } from 'node:os';

const CHROMIUM_DIR = '/usr/lib/chromium';
const RTLD_NODELETE = 0x1000;

function preloadVulkanLoader(): void {
  const loader = `${CHROMIUM_DIR}/libvulkan.so.1`;
  if (process.platform !== 'linux' || !existsSync(loader)) return;
  try {
    const flags = constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;
    process.dlopen({ exports: {} } as NodeJS.Module, loader, flags);
  } catch {
    // Expected: "Module did not self-register" (it is not an addon). The library stays loaded.
  }
}

export interface NodeGpu {
  gpu: GPU;
  /** Drops our references so Dawn lets the process exit. */
  release(): void;
}

export async function createNodeGpu(): Promise<NodeGpu> {
  const icd = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;
  if (!process.env.VK_ICD_FILENAMES && existsSync(icd)) process.env.VK_ICD_FILENAMES = icd;
  preloadVulkanLoader();
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  let gpu: GPU | null = create([]);
  return {
    get gpu() {
      if (!gpu) throw new Error('node gpu released');
      return gpu;
    },
    release() {
      gpu = null;
      const g = globalThis as { navigator?: { gpu?: GPU } };
      if (g.navigator?.gpu) g.navigator = undefined;
    },
  };
}
