// CommonJS, like the rest of the package: ESM `import`/`export` here makes Vite warn about its native config loader.
import vitestConfig = require('vitest/config');

export = vitestConfig.defineConfig({
  // `scalecharts` by name (the example preset package) is the sources, as in tsconfig.json's paths.
  resolve: { alias: [{ find: /^scalecharts$/, replacement: `${__dirname}/lib/index.ts` }] },
  test: {
    // Generates the strict schemas every synthesized object is validated against (test/harness/schema.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120000,
    hookTimeout: 300000,
    include: ['test/**/*.test.ts'],
  },
});
