// Runs a TypeScript benchmark (with Vite's `?raw` WGSL imports) in Node through Vite's module
// runner, so benchmarks need no extra tooling: `node bench/run.mjs bench/engine.bench.ts`.
import { createServer, createServerModuleRunner } from 'vite';

process.env.VK_ICD_FILENAMES ||= '/usr/lib/chromium/vk_swiftshader_icd.json';
const entry = process.argv[2] ?? 'bench/engine.bench.ts';
const server = await createServer({
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false },
  optimizeDeps: { noDiscovery: true, include: [] },
});
try {
  const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
  const mod = await runner.import(`/${entry}`);
  if (typeof mod.main === 'function') await mod.main(process.argv.slice(3));
  await runner.close();
} finally {
  await server.close();
}
