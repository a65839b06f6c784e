import { describeWebhookStoreContract } from '../contract/webhook-store.contract.ts';
import { MemoryWebhookStore } from '../support/memory-webhook-store.ts';

// The in-memory twin, held to the contract the DynamoDB store keeps (test/integration/webhook-store-contract.test.ts).
describeWebhookStoreContract('in memory', () => new MemoryWebhookStore());
