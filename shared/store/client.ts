import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoConfig {
  /** Set only for DynamoDB Local; on AWS the SDK finds the regional endpoint itself. */
  endpoint?: string | undefined;
  region?: string | undefined;
}

export function createDocumentClient(config: DynamoConfig = {}): DynamoDBDocumentClient {
  const local = config.endpoint !== undefined;
  const client = new DynamoDBClient({
    ...(local
      ? {
          endpoint: config.endpoint,
          region: config.region ?? 'local',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
    // DynamoDB Local answers a write that waited too long for its table lock with a 500 ("This request will
    // succeed in actual DynamoDB API"), which it did not apply; under a busy test machine that happens, and
    // the SDK's retry with backoff is the answer. Real DynamoDB keeps the SDK's usual three attempts.
    maxAttempts: local ? 8 : 3,
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
