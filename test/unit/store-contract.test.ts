import { describeStoreContract } from '../contract/stores.contract.ts';
import { createMemoryStores } from '../support/memory-store.ts';

// The in-memory twin, held to the same contract as the DynamoDB stores (test/integration/store-contract.test.ts).
describeStoreContract('in memory', () => createMemoryStores());
