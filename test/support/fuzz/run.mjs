#!/usr/bin/env node
// `npm run fuzz -- --runs 100000 [--seed 42] [--lanes 8]`: the seeded fuzz of test/e2e/fuzz.test.ts, longer
// than the bounded run inside `npm test`, on the same DynamoDB Local set-up (jest's integration project).
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    lanes: { type: 'string' },
  },
});
const wholeNumber = (name, text) => {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    console.error(`--${name} must be a whole number ≥ 1, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return text;
};
const env = {
  ...process.env,
  FUZZ_RUNS: wholeNumber('runs', values.runs),
  ...(values.seed ? { FUZZ_SEED: wholeNumber('seed', values.seed) } : {}),
  ...(values.lanes ? { FUZZ_CONCURRENCY: wholeNumber('lanes', values.lanes) } : {}),
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  NODE_OPTIONS: '--experimental-vm-modules --no-deprecation --disable-warning=ExperimentalWarning',
};
const result = spawnSync(
  process.execPath,
  ['node_modules/jest/bin/jest.js', 'test/e2e/fuzz.test.ts', '--selectProjects', 'integration', '-t', 'seeded fuzz'],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
