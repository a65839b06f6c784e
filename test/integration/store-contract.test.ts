import { afterAll } from '@jest/globals';
import { createDocumentClient } from '../../shared/store/client.ts';
import { createDynamoStores } from '../../shared/store/index.ts';
import { describeStoreContract } from '../contract/stores.contract.ts';

// The DynamoDB stores on DynamoDB Local (started by the jest globalSetup), held to the contract their
// in-memory twin keeps too (test/unit/store-contract.test.ts).
const endpoint = process.env.DYNAMODB_ENDPOINT;
const tableName = process.env.TABLE_NAME;
if (!endpoint || !tableName) throw new Error('needs the jest globalSetup (DYNAMODB_ENDPOINT, TABLE_NAME)');
const client = createDocumentClient({ endpoint });
afterAll(() => client.destroy());

describeStoreContract('DynamoDB', () => createDynamoStores(client, tableName));
