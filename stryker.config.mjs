// Mutation testing of the domain rules (README "Tests"): `npm run test:mutation`. Slow (tens of minutes on
// 2 cores), so not part of `npm test`. Runs the domain and use-case unit tests only (jest.mutation.config.js): no DynamoDB Local.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js' },
  // Jest runs the tests as ES modules (see the test scripts in package.json).
  testRunnerNodeArgs: ['--experimental-vm-modules', '--no-deprecation', '--disable-warning=ExperimentalWarning'],
  mutate: ['shared/domain/**/*.ts'],
  coverageAnalysis: 'perTest',
  // Mutants in module-level constants would need every test re-run per mutant; their values are asserted anyway.
  ignoreStatic: true,
  // Two test processes: the machine's two cores (npm test is not run at the same time).
  concurrency: 2,
  // The machine is shared: a slow run under load is not an infinite loop.
  timeoutMS: 30000,
  timeoutFactor: 3,
  ignorePatterns: ['cdk.out', '.data', 'reports', 'coverage'],
  reporters: ['html', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  thresholds: { high: 90, low: 85, break: 85 },
};
