import { describeStoreContract } from '../contract/stores.contract.ts';
import { testStores } from '../support/harness.ts';

// The DynamoDB stores (createDynamoStores) on the shared DynamoDB Local table, held to the contract their
// in-memory twin keeps too (test/unit/store-contract.test.ts).
describeStoreContract('DynamoDB', () => testStores());
