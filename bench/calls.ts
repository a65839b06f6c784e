import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const READS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);
const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

export type CallCounts = ReadonlyMap<string, number>;

/**
 * Counts the DynamoDB commands a client actually sends, by the low-level command name
 * (`QueryCommand`, `TransactWriteItemsCommand`, ...). A middleware in the client's `initialize` step sees each
 * `send` once, whichever document-client command wrapped it; SDK retries are not counted again. Names
 * that are neither DynamoDB reads nor writes (e.g. `Scheduler.upsert`) count as `other`.
 */
export class CallCounter {
  private counts = new Map<string, number>();

  attach(client: DynamoDBDocumentClient): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.record(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'benchCallCounter', override: true },
    );
    return this;
  }

  /** Counts one call by name; other adapters (a stub scheduler, say) record theirs here too. */
  record(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  /** The counts since the last take, then starts counting afresh. */
  take(): CallCounts {
    const counts = this.counts;
    this.counts = new Map();
    return counts;
  }
}

export function summarizeCalls(counts: CallCounts, requests: number) {
  let reads = 0;
  let writes = 0;
  let transactionalWrites = 0;
  let other = 0;
  for (const [name, count] of counts) {
    if (READS.has(name)) reads += count;
    else if (WRITES.has(name)) {
      writes += count;
      if (name === 'TransactWriteItemsCommand') transactionalWrites += count;
    } else other += count;
  }
  const per = (value: number) => value / requests;
  return {
    reads: per(reads),
    writes: per(writes),
    transactionalWrites: per(transactionalWrites),
    other: per(other),
    total: per(reads + writes + other),
    breakdown: [...counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, count]) => `${name.replace(/Command$/, '')} ${per(count).toFixed(2)}`)
      .join(', '),
  };
}
