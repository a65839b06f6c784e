// The tests `npm run test:mutation` (stryker.config.mjs) runs against each mutant of shared/domain: the unit
// project of jest.config.js (never DynamoDB Local), less the tests of adapters, infra and the HTTP edge.
// Those load the AWS SDK, Stripe and crypto fixtures, which costs seconds per mutant and guards no domain
// rule; the domain's rules are held by the domain and use-case tests that stay.
import config from './jest.config.js';

const unit = config.projects.find((project) => project.displayName === 'unit');
if (!unit) throw new Error('jest.config.js has no project named unit');

const ADAPTER_TESTS = [
  'crc32',
  'der',
  'eventbridge-bus',
  'eventbridge-scheduler',
  'gateway',
  'local-event-bus',
  'observability-config',
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
  testPathIgnorePatterns: ['/node_modules/', ...ADAPTER_TESTS.map((name) => `/test/unit/${name}\\.test\\.ts$`)],
};
