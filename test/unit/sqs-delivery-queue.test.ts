import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it, jest } from '@jest/globals';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createWebhookDeliveryHandler } from '../../functions/webhook-delivery/app.ts';
import { SqsDeliveryQueue } from '../../shared/adapters/sqs-delivery-queue.ts';
import { log } from '../../shared/log.ts';
import type { DeliveryMessage } from '../../shared/ports/delivery-queue.ts';
import type { DeliveryDeps } from '../../shared/usecases/webhook-delivery.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/deliveries';
const NOW = new Date('2026-11-21T10:00:00.000Z');
const message: DeliveryMessage = { siteId: 'site-1', endpointId: 'main', eventId: 'evt_1', attempt: 3 };

function setup() {
  const sqs = mockClient(SQSClient);
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  let now = NOW;
  const queue = new SqsDeliveryQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE_URL, () => now);
  const sent = () =>
    sqs.commandCalls(SendMessageCommand).map((call) => ({
      delay: call.args[0].input.DelaySeconds,
      body: JSON.parse(call.args[0].input.MessageBody!),
      url: call.args[0].input.QueueUrl,
    }));
  return { sqs, queue, sent, setNow: (instant: Date) => (now = instant) };
}

describe('SqsDeliveryQueue', () => {
  it('sends a short delay as SQS DelaySeconds, with the due instant in the body', async () => {
    const { queue, sent } = setup();

    await queue.send(message, 120);

    expect(sent()).toEqual([{ url: QUEUE_URL, delay: 120, body: { message, notBefore: '2026-11-21T10:02:00.000Z' } }]);
  });

  it('caps a delay over 900 s at 900 s, keeping the real due instant', async () => {
    const { queue, sent } = setup();

    await queue.send(message, 6 * 3_600);

    expect(sent()).toEqual([{ url: QUEUE_URL, delay: 900, body: { message, notBefore: '2026-11-21T16:00:00.000Z' } }]);
  });

  it('an early message is sent again with the remaining delay, and nothing is delivered yet', async () => {
    const { queue, sent, setNow } = setup();
    await queue.send(message, 3_600);
    const first = sent()[0]!;
    setNow(new Date(NOW.getTime() + 900_000)); // SQS hands it over after 900 s
    const deps = { queue, clock: () => new Date(NOW.getTime() + 900_000) } as unknown as DeliveryDeps;
    const handler = createWebhookDeliveryHandler(deps);
    const event = { Records: [{ messageId: 'r-1', body: JSON.stringify(first.body) }] } as unknown as SQSEvent;

    const result = await handler(event);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(sent()[1]).toEqual({
      url: QUEUE_URL,
      delay: 900,
      body: { message, notBefore: '2026-11-21T11:00:00.000Z' },
    });
  });

  it('a malformed record is reported as the failure of that record only', async () => {
    const { queue } = setup();
    const handler = createWebhookDeliveryHandler({ queue, clock: () => NOW } as unknown as DeliveryDeps);
    const logged = jest.spyOn(log, 'error').mockImplementation(() => undefined);

    const result = await handler({ Records: [{ messageId: 'bad', body: '{"nope":1}' }] } as unknown as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(logged).toHaveBeenCalledWith('webhook delivery failed', expect.objectContaining({ messageId: 'bad' }));
    logged.mockRestore();
  });
});
