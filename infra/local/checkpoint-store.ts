import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../shared/store/keys.ts';

/** Sequence numbers are decimal strings of varying length; padded, they compare as strings in a condition. */
const POSITION_DIGITS = 48;

/**
 * Where the local stream poller remembers, per consumer and shard, the last sequence number it has handled
 * (published, or given up on), in DynamoDB Local beside the data: with DATA_DIR, a restart resumes right
 * after it (AFTER_SEQUENCE_NUMBER), as Lambda's event source mapping does from its own checkpoint on AWS.
 * A checkpoint only moves forward: a write behind the stored one (a second runtime on the same table, a
 * late write) changes nothing.
 */
export class LocalCheckpointStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(consumer: string, shardId: string): Promise<string | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.localCheckpoint(consumer, shardId), ConsistentRead: true }),
    );
    return typeof Item?.sequenceNumber === 'string' ? Item.sequenceNumber : null;
  }

  async put(consumer: string, shardId: string, sequenceNumber: string): Promise<void> {
    const position = sequenceNumber.padStart(POSITION_DIGITS, '0');
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.localCheckpoint(consumer, shardId),
            entity: 'localCheckpoint',
            consumer,
            shardId,
            sequenceNumber,
            position,
            updatedAt: new Date().toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #position < :position',
          ExpressionAttributeNames: { '#position': 'position' },
          ExpressionAttributeValues: { ':position': position },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
