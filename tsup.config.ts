import { defineConfig } from 'tsup';

const shared = {
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  splitting: false,
  treeshake: true,
} as const;

export default defineConfig([
  // The library: ESM and CommonJS, with .d.ts / .d.cts.
  // proxyless/otel: the optional OpenTelemetry SDK setup (its SDK packages are optional peers).
  // proxyless/nest: the NestJS module (@nestjs/common, @nestjs/core and rxjs are optional peers).
  // Split: the three entry points share their modules in chunks, so module state (the mesh's
  // clock, its last reading, which the span recorder uses) is one per format, not one per entry.
  {
    ...shared,
    entry: { index: 'src/index.ts', otel: 'src/otel.ts', nest: 'src/nest.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    splitting: true,
  },
  // The CLI is ESM only (it uses import.meta.url to re-launch itself for the demo).
  { ...shared, entry: { cli: 'src/cli.ts' }, format: ['esm'], dts: false, clean: false },
]);
