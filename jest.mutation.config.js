// The tests `npm run test:mutation` (stryker.config.mjs) runs against each mutant of shared/domain: the unit
// project of jest.config.js (never DynamoDB Local), less the tests of use cases, adapters, infra and the HTTP
// edge. Each of those files costs up to seconds per mutant (ESM loading of the AWS SDK, Stripe, stores) and
// Jest cannot stop at the first failure when run by Stryker; the score is what the domain's own tests guard.
import config from './jest.config.js';

const unit = config.projects.find((project) => project.displayName === 'unit');
if (!unit) throw new Error('jest.config.js has no project named unit');

const ADAPTER_TESTS = [
  'bulk-jobs-contract',
  'crc32',
  'der',
  'eventbridge-bus',
  'eventbridge-scheduler',
  'gateway',
  'local-event-bus',
  'observability-config',
  'openapi',
  'openapi-validation',
  'paypal-codec',
  'paypal-signature',
  'paypal-webhook',
  'principal',
  'processors',
  'publisher',
  'publisher-wiring',
  'sqs-delivery-queue',
  'store-contract',
  'store-transaction-conflicts',
  'stripe-webhook',
  'tokens',
  'validation',
  'webhook-store-contract',
  'wiring',
];

export default {
  ...unit,
  displayName: 'mutation',
  setupFiles: [...(unit.setupFiles ?? []), '<rootDir>/test/support/mutation-setup.ts'],
  testPathIgnorePatterns: [
    '/node_modules/',
    '/test/unit/usecases/',
    ...ADAPTER_TESTS.map((name) => `/test/unit/${name}\\.test\\.ts$`),
  ],
};
