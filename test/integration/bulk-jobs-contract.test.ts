import { afterAll } from '@jest/globals';
import { createDocumentClient } from '../../shared/store/client.ts';
import { createDynamoBulkJobStore, createDynamoStores } from '../../shared/store/index.ts';
import { describeBulkJobStoreContract } from '../contract/bulk-jobs.contract.ts';

// The DynamoDB bulk job store on the shared DynamoDB Local table, held to the contract its twin keeps.
const db = createDocumentClient({ endpoint: process.env.DYNAMODB_ENDPOINT });
afterAll(() => db.destroy());

describeBulkJobStoreContract('DynamoDB', () => ({
  stores: createDynamoStores(db, process.env.TABLE_NAME!),
  jobs: createDynamoBulkJobStore(db, process.env.TABLE_NAME!),
}));
