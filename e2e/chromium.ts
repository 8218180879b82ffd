/**
 * How GridTab starts Debian's Chromium headless (tests, the demo, benchmarks). WebGPU runs on
 * SwiftShader with these flags; WebGL needs --enable-unsafe-swiftshader in current Chromium.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-fallback-to-gl-for-testing',
  '--enable-unsafe-swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // Several contributor tabs share one window; keep background tabs at full speed.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];
