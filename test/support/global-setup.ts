import { ensureTable, startDynamoDbLocal } from '../../infra/local/dynamodb.ts';

/** One DynamoDB Local for the whole run; tests use unique ids so they can share its table. */
export default async function globalSetup() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // The local runtime's Lambda deadline (10 s) is for people using it; under a loaded CI machine a test's
  // request may wait that long for DynamoDB Local, and a 500 from the emulated timeout tests nothing.
  process.env.LOCAL_FUNCTION_TIMEOUT_MS ??= '60000';
  const dynamo = await startDynamoDbLocal();
  const tableName = 'membergate-test';
  await ensureTable(dynamo.endpoint, tableName);
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.TABLE_NAME = tableName;
  (globalThis as { __dynamo?: { stop(): Promise<void> } }).__dynamo = dynamo;
}
