/**
 * The one table's physical schema. The CDK stack and the local runtime both build the table from this,
 * so the deployed and the local table cannot drift. Key *contents* are owned by ./keys.ts.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Purchases of an offer, oldest first (bulk revocation, subscriptions filtered by offer). */
  byOffer: { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Subscriptions and payment plans of a site, grouped by status (the subscriptions list). */
  byStatus: { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /**
   * Timed actions due (the sweeper's safety net), every site's, by UTC hour and write shard (keys.ts). The
   * sweeper needs only which purchase to re-read: a purchase item's other changes never rewrite this index.
   */
  byDue: { indexName: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk', projected: ['siteId', 'purchaseId'] },
  /** A site's domain events, oldest first (`GET /sites/{siteId}/events`); a site's partition, no global one. */
  siteEvents: { indexName: 'gsi4', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
  /**
   * A site's calendar of timed changes (`GET /sites/{siteId}/upcoming`), one partition per site and UTC day.
   * Only what a calendar line shows is projected (an entry's fields; a purchase item's `upcomingChange`), so a
   * purchase item in it is not a fourth copy of the purchase, and its other changes never rewrite the index.
   */
  upcoming: {
    indexName: 'gsi5',
    partitionKey: 'gsi5pk',
    sortKey: 'gsi5sk',
    projected: [
      'purchaseId',
      'customerId',
      'offerId',
      'type',
      'at',
      'productIds',
      'amount',
      'currency',
      'upcomingChange',
    ],
  },
} as const;

/** An index's projection: the listed attributes besides the keys, or every attribute. */
export function projectionOf(index: (typeof GLOBAL_INDEXES)[number]): readonly string[] | 'ALL' {
  return 'projected' in index ? index.projected : 'ALL';
}

export const GLOBAL_INDEXES = [
  TABLE_SCHEMA.byOffer,
  TABLE_SCHEMA.byStatus,
  TABLE_SCHEMA.byDue,
  TABLE_SCHEMA.siteEvents,
  TABLE_SCHEMA.upcoming,
] as const;

/** CreateTable input shared by the local runtime and the tests (the stack mirrors it with CDK types). */
export function createTableInput(tableName: string) {
  const keyAttributes = [
    TABLE_SCHEMA.partitionKey,
    TABLE_SCHEMA.sortKey,
    ...GLOBAL_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: GLOBAL_INDEXES.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: ((projected) =>
        projected === 'ALL'
          ? { ProjectionType: 'ALL' as const }
          : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...projected] })(projectionOf(index)),
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const },
  };
}
