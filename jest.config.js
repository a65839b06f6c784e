// Three kinds of tests, kept apart (see README "Tests"): unit tests touch nothing outside the process,
// integration tests share one DynamoDB Local started by globalSetup, infra tests synthesize the stack.
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
};
const common = {
  transform,
  extensionsToTreatAsEsm: ['.ts'],
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/quiet.ts'],
};

// Generous per-test limits: CI machines run this suite about twice as slow as a quiet laptop, and a test that
// fails only because the machine is busy teaches nothing. Tests that wait for the clock poll with deadlines.
export default {
  // A global option: jest 30 ignores testTimeout inside a project's config.
  testTimeout: 120_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
  ],
};
