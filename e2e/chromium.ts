// How Chromium is launched, shared by playwright.config.ts and specs that launch their own.

/** Debian's chromium (Playwright cannot download browsers here). Override with QS_CHROMIUM. */
export const CHROMIUM_PATH = process.env.QS_CHROMIUM ?? '/usr/bin/chromium';

/** Headless, root, closed network. The WebGPU flag is separate so a spec can leave it out. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Without it Chromium on Linux/SwiftShader gives no WebGPU adapter. */
export const WEBGPU_FLAG = '--enable-unsafe-webgpu';
