import { describeBulkJobStoreContract } from '../contract/bulk-jobs.contract.ts';
import { MemoryBulkJobStore } from '../support/memory-bulk-jobs.ts';
import { createMemoryStores } from '../support/memory-store.ts';

// The in-memory twin, held to the contract the DynamoDB adapter keeps (test/integration/bulk-jobs-contract.test.ts).
describeBulkJobStoreContract('in memory', () => {
  const stores = createMemoryStores();
  return { stores, jobs: new MemoryBulkJobStore(stores) };
});
