import { createHash } from 'node:crypto';
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { InvalidInputError } from '../domain/errors.ts';
import type { Page } from '../ports/purchases.ts';
import { GLOBAL_INDEXES, TABLE_SCHEMA } from './schema.ts';
import { type Item, strip, type Table } from './table.ts';

/**
 * One page of at most `limit` items. With a FilterExpression DynamoDB may return fewer per call, so this
 * keeps reading until the page is full or the index is exhausted. The cursor is opaque to callers and
 * bound to this exact list (table or index, key condition, filter and their values): a cursor of another
 * site, list or filter, or a forged one, is refused as bad input before it reaches DynamoDB.
 */
export async function queryPage<T>(
  table: Table,
  input: Omit<QueryCommandInput, 'TableName'>,
  limit: number,
  cursor: string | null,
): Promise<Page<T>> {
  const shape = listShape(table.name, input);
  let startKey = cursor === null ? undefined : decodeCursor(cursor, shape);
  const items: Item[] = [];
  do {
    const result = await table.db.send(
      new QueryCommand({ ...input, TableName: table.name, Limit: limit - items.length, ExclusiveStartKey: startKey }),
    );
    items.push(...(result.Items ?? []));
    startKey = result.LastEvaluatedKey;
  } while (startKey && items.length < limit);
  return {
    items: items.map((item) => strip<T>(item)!),
    nextCursor: startKey ? encodeCursor(startKey, shape) : null,
  };
}

/** What a list's cursors must look like: the key attributes DynamoDB returns for it, and the list's identity. */
interface ListShape {
  keyAttributes: string[];
  partitionKey: string;
  sortKey: string;
  partitionValue: unknown;
  /** The sort key's `begins_with` prefix of the key condition, if any. */
  sortPrefix: string | null;
  /** A digest of everything that defines the list: a cursor carries it and must match. */
  binding: string;
}

function listShape(tableName: string, input: Omit<QueryCommandInput, 'TableName'>): ListShape {
  const index = GLOBAL_INDEXES.find((candidate) => candidate.indexName === input.IndexName);
  const tableKeys = [TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey];
  const values = input.ExpressionAttributeValues ?? {};
  const prefix = / AND begins_with\(\w+, (:\w+)\)/.exec(input.KeyConditionExpression ?? '')?.[1];
  const identity = JSON.stringify([
    tableName,
    input.IndexName ?? null,
    input.KeyConditionExpression,
    input.FilterExpression ?? null,
    Object.entries(values).sort(([a], [b]) => a.localeCompare(b)),
  ]);
  return {
    keyAttributes: index ? [...tableKeys, index.partitionKey, index.sortKey] : tableKeys,
    partitionKey: index?.partitionKey ?? TABLE_SCHEMA.partitionKey,
    sortKey: index?.sortKey ?? TABLE_SCHEMA.sortKey,
    partitionValue: values[':pk'],
    sortPrefix: prefix ? String(values[prefix]) : null,
    binding: createHash('sha256').update(identity).digest('base64url').slice(0, 22),
  };
}

function encodeCursor(key: Item, shape: ListShape): string {
  return Buffer.from(JSON.stringify({ list: shape.binding, key })).toString('base64url');
}

/**
 * Accepts only a cursor this list issued: the same list binding, exactly the key attributes of the table or
 * index, each a non-empty string, the partition being the list's own and the sort key within its prefix.
 */
function decodeCursor(cursor: string, shape: ListShape): Item {
  const refuse = (): never => {
    throw new InvalidInputError('cursor is not valid for this list', [
      { field: 'cursor', message: 'not a cursor returned by this list with these filters' },
    ]);
  };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return refuse();
  }
  if (typeof decoded !== 'object' || decoded === null) return refuse();
  const { list, key } = decoded as { list?: unknown; key?: unknown };
  if (list !== shape.binding || typeof key !== 'object' || key === null || Array.isArray(key)) return refuse();
  const values = key as Item;
  const wellFormed =
    Object.keys(values).length === shape.keyAttributes.length &&
    shape.keyAttributes.every((name) => typeof values[name] === 'string' && values[name] !== '') &&
    values[shape.partitionKey] === shape.partitionValue &&
    (shape.sortPrefix === null || String(values[shape.sortKey]).startsWith(shape.sortPrefix));
  return wellFormed ? values : refuse();
}
