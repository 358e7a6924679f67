// End-to-end tests in real headless Chromium (Debian's /usr/bin/chromium; WebGPU through
// SwiftShader on machines without a GPU; see docs/WEBGPU_ON_CPU.md).
// The app is built and served by `vite preview`; set QS_E2E_SKIP_BUILD=1 when dist/ is fresh.

import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, WEBGPU_FLAG } from './e2e/chromium';

const E2E_PORT = 4319;
const baseURL = `http://localhost:${E2E_PORT}`;

// `npm run build` also writes public/models/index.json (prebuild).
const build = process.env.QS_E2E_SKIP_BUILD ? '' : 'npm run build && ';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  // No test may hang the harness: each has its own limit, the whole run has one too.
  timeout: 60_000,
  // ~9 min of specs on a 2-core machine (the fault specs of issue #13 add ~3.5), with room.
  globalTimeout: 20 * 60_000,
  expect: { timeout: 20_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    headless: true,
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: [WEBGPU_FLAG, ...CHROMIUM_ARGS],
    },
  },
  projects: [{ name: 'chromium' }],
  webServer: {
    command: `${build}npx vite preview --port ${E2E_PORT} --strictPort --host localhost`,
    url: baseURL,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
