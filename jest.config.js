/**
 * Unit specs live beside the code; e2e specs drive the real HTTP app from test/. Slow specs
 * (test/*.slow-spec.ts: big data, waiting out real time, killed processes) are their own
 * project: `npm test` selects unit and e2e, `npm run test:slow` the slow one.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  rootDir: __dirname,
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^src/(.*)$': '<rootDir>/src/$1', '^test/(.*)$': '<rootDir>/test/$1' },
  testEnvironment: 'node',
};
module.exports = {
  testTimeout: 60000,
  // A closed app whose Redis was cut mid-test can leave an ioredis client reconnecting;
  // the run must still end when the tests have (see the note in docs/operations.md).
  forceExit: true,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
    { ...common, displayName: 'slow', testMatch: ['<rootDir>/test/**/*.slow-spec.ts'] },
  ],
};
