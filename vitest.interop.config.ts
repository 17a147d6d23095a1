import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Slow suites: soak tests and (later) interop with peers we did not write.
// `npm run test:interop`; CI runs it after the default suite.
export default defineConfig({
  resolve: { alias: { proxyless: fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The mesh's clock follows fake timers in tests (see the file).
    setupFiles: ['test/setup/clock.ts'],
  },
});
