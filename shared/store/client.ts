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
    maxAttempts: 3,
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
