import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModificationError } from '../domain/errors.ts';
import type { ProcessorEventRecord, ProcessorEventStore } from '../ports/processor-events.ts';
import { processorEventPut } from './items.ts';
import { keys } from './keys.ts';
import { cancellationReasons, type Table } from './table.ts';

/** DynamoDB implementation of ProcessorEventStore: one item per processor event id (TTL 90 days). */
export class DynamoProcessorEventStore implements ProcessorEventStore {
  constructor(private readonly table: Table) {}

  async hasProcessorEvent(processor: string, eventId: string): Promise<boolean> {
    return (await this.table.get(keys.processorEvent(processor, eventId))) !== undefined;
  }

  async recordProcessorEvent(event: ProcessorEventRecord): Promise<boolean> {
    try {
      await this.table.db.send(
        new TransactWriteCommand({ TransactItems: [processorEventPut(this.table.name, event)] }),
      );
      return true;
    } catch (error) {
      const reason = cancellationReasons(error)?.[0];
      if (reason === 'ConditionalCheckFailed') return false;
      // A concurrent delivery of the same event is being written: the caller retries and then sees it.
      if (reason === 'TransactionConflict') throw new ConcurrentModificationError(`processor event ${event.eventId}`);
      throw error;
    }
  }
}
