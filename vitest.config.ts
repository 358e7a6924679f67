// Unit tests: pure TypeScript in Node (no browser). GPU tests use the `webgpu` npm package
// (Dawn) on SwiftShader; see src/test/setup.ts. Files run one at a time: the machine has 2 cores
// and SwiftShader uses them all.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['src/test/setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    // Generous: SwiftShader is slow and pipeline compilation can take seconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
