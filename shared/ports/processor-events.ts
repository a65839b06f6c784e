/** A processor event as recorded for deduplication. */
export interface ProcessorEventRecord {
  processor: string;
  eventId: string;
  type: string;
  siteId: string | null;
  purchaseId: string | null;
  receivedAt: string;
  outcome: string;
}

/**
 * Port for processor-event deduplication. An event that changes a purchase is recorded in the purchase's own
 * transaction (PurchaseStore.savePurchase / createPurchase with `processorEvent`); this records the others.
 */
export interface ProcessorEventStore {
  hasProcessorEvent(processor: string, eventId: string): Promise<boolean>;
  /** Records an event that changed nothing, so a redelivery is recognised. False when seen before. */
  recordProcessorEvent(event: ProcessorEventRecord): Promise<boolean>;
}
