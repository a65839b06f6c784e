import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyRecord } from '../domain/idempotency.ts';
import type { IdempotencyStore } from '../ports/idempotency.ts';
import { items } from './items.ts';
import { keys } from './keys.ts';
import { strip, type Table } from './table.ts';

/** DynamoDB implementation of IdempotencyStore: the key lives in the partition of the purchase it guards. */
export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(private readonly table: Table) {}

  async getIdempotencyRecord(
    siteId: string,
    purchaseId: string,
    scope: string,
    key: string,
  ): Promise<IdempotencyRecord | null> {
    return strip<IdempotencyRecord>(await this.table.get(keys.idempotency(siteId, purchaseId, scope, key)));
  }

  async claimIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord | null> {
    try {
      await this.table.db.send(
        new PutCommand({
          TableName: this.table.name,
          Item: items.idempotency(record),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return null;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The document client does not unmarshall an item returned with the failure: read the winner's record.
      return this.getIdempotencyRecord(record.siteId, record.purchaseId, record.scope, record.key);
    }
  }
}
