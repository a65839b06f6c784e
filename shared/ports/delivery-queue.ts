/** One attempt of one delivery job to run: the job is found by site, endpoint and event id. */
export interface DeliveryMessage {
  siteId: string;
  endpointId: string;
  eventId: string;
  /** The attempt this message is for (1-based); a message for an attempt already made is dropped. */
  attempt: number;
}

/**
 * The wire format of a queued delivery: the message and the earliest instant it may run. A queue that cannot
 * delay as long as asked (SQS: 900 s) delivers it early, and the receiver sends it again with the rest of the
 * delay (`untilDue`).
 */
export interface QueuedDelivery {
  message: DeliveryMessage;
  notBefore: string;
}

/**
 * Port for the queue of delivery jobs (DESIGN.md §5, §6: every job fans out over a queue). AWS: an SQS queue
 * (shared/adapters/sqs-delivery-queue.ts) read by the delivery function with bounded concurrency; locally, a
 * stand-in persisted in DynamoDB Local (infra/local/local-queue.ts). At least once: a message may arrive twice,
 * and the delivery use case makes that harmless.
 */
export interface DeliveryQueue {
  send(message: DeliveryMessage, delaySeconds: number): Promise<void>;
}

/** The body a queue carries for a message due `delaySeconds` after `now`. */
export function queuedDelivery(message: DeliveryMessage, delaySeconds: number, now: Date): QueuedDelivery {
  return { message, notBefore: new Date(now.getTime() + Math.max(0, delaySeconds) * 1000).toISOString() };
}

/** Reads a queued body: its message, and how many seconds are still to wait (0 when due). Throws when malformed. */
export function untilDue(body: string, now: Date): { message: DeliveryMessage; remainingSeconds: number } {
  const parsed = JSON.parse(body) as Partial<QueuedDelivery>;
  const message = parsed.message;
  const valid =
    typeof message === 'object' &&
    message !== null &&
    typeof message.siteId === 'string' &&
    typeof message.endpointId === 'string' &&
    typeof message.eventId === 'string' &&
    Number.isInteger(message.attempt) &&
    typeof parsed.notBefore === 'string' &&
    !Number.isNaN(Date.parse(parsed.notBefore));
  if (!valid) throw new Error('not a queued delivery');
  const remainingMs = Date.parse(parsed.notBefore!) - now.getTime();
  return {
    message: {
      siteId: message.siteId!,
      endpointId: message.endpointId!,
      eventId: message.eventId!,
      attempt: message.attempt!,
    },
    remainingSeconds: remainingMs > 0 ? Math.ceil(remainingMs / 1000) : 0,
  };
}
