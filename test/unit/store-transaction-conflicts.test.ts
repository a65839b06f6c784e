import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { ConcurrentModificationError } from '../../shared/domain/errors.ts';
import { grantOffer } from '../../shared/domain/grants.ts';
import { createDynamoStores } from '../../shared/store/index.ts';
import { ADMIN, anOffer, NOW } from './fixtures.ts';

// Real DynamoDB cancels a transaction with `TransactionConflict` when another transaction writes one of its
// items at the same moment (DynamoDB Local serialises transactions, so only a mock can show it). The caller
// must get the retryable ConcurrentModificationError, never a raw SDK error (a 500).

function conflicted(reasons: string[]) {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: reasons.map((Code) => ({ Code })),
  });
}

function stores() {
  const document = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'local' }));
  const mock = mockClient(document);
  return { mock, stores: createDynamoStores(document, 'table') };
}

describe('transaction conflicts are retryable conflicts', () => {
  it('createPurchase: TransactionConflict on the processor link → ConcurrentModificationError', async () => {
    const { mock, stores: s } = stores();
    mock.on(TransactWriteCommand).rejects(conflicted(['None', 'None', 'None', 'TransactionConflict']));
    const change = grantOffer({
      purchaseId: 'p-1',
      customer: { siteId: 's-1', customerId: 'c-1' },
      offer: anOffer(),
      processor: 'stripe',
      processorSubscriptionId: 'sub_1',
      currentPeriodEnd: null,
      actor: ADMIN,
      now: NOW,
    });

    await expect(s.purchases.createPurchase(change)).rejects.toBeInstanceOf(ConcurrentModificationError);
  });

  it('recordProcessorEvent: TransactionConflict → ConcurrentModificationError; ConditionalCheckFailed → false', async () => {
    const { mock, stores: s } = stores();
    const event = {
      processor: 'stripe',
      eventId: 'evt_1',
      type: 'x',
      siteId: null,
      purchaseId: null,
      receivedAt: NOW.toISOString(),
      outcome: 'ignored',
    };
    mock
      .on(TransactWriteCommand)
      .rejectsOnce(conflicted(['TransactionConflict']))
      .rejectsOnce(conflicted(['ConditionalCheckFailed']));

    await expect(s.processorEvents.recordProcessorEvent(event)).rejects.toBeInstanceOf(ConcurrentModificationError);
    await expect(s.processorEvents.recordProcessorEvent(event)).resolves.toBe(false);
  });
});
