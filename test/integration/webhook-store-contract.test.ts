import { describeWebhookStoreContract } from '../contract/webhook-store.contract.ts';
import { testWebhookStore } from '../support/harness.ts';

// The DynamoDB webhook store on the shared DynamoDB Local table, held to the contract its twin keeps too.
describeWebhookStoreContract('DynamoDB', () => testWebhookStore());
