import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';

export type Item = Record<string, unknown>;
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Attributes that exist for the table (keys, index keys, TTL, entity tag), never part of a domain record. */
const TABLE_ATTRIBUTES = [
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'gsi3pk',
  'gsi3sk',
  'gsi5pk',
  'gsi5sk',
  'upcomingChange',
  'entity',
  'ttl',
];

/** The domain record an item holds, without the table's own attributes. */
export function strip<T>(item: Item | undefined): T | null {
  if (!item) return null;
  const copy: Item = { ...item };
  for (const attribute of TABLE_ATTRIBUTES) delete copy[attribute];
  return copy as T;
}

/** The table and the client every DynamoDB port implementation shares, with the reads they all make. */
export class Table {
  constructor(
    readonly db: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  /** Strongly consistent: what a decision is made on must be the latest write. */
  async get(key: { pk: string; sk: string }): Promise<Item | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true }));
    return result.Item;
  }

  /**
   * Runs a transaction: null when it was written, or the position of the first item whose condition did not
   * hold (nothing was written). Any other refusal is thrown.
   */
  async transact(items: TransactItem[]): Promise<number | null> {
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return null;
    } catch (error) {
      const refused = cancellationReasons(error)?.indexOf('ConditionalCheckFailed') ?? -1;
      if (refused >= 0) return refused;
      throw error;
    }
  }

  async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const result = await this.db.send(
        new QueryCommand({ ...input, TableName: this.name, ExclusiveStartKey: startKey }),
      );
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

/** Why a transaction (or a single conditional write) was refused, one code per item; null for other errors. */
export function cancellationReasons(error: unknown): string[] | null {
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
  }
  if (error instanceof ConditionalCheckFailedException) return ['ConditionalCheckFailed'];
  return null;
}
