import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  type GlobalSecondaryIndexPropsV2,
  ProjectionType,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { GLOBAL_INDEXES, TABLE_SCHEMA } from '../../shared/store/schema.ts';

/**
 * Everything that holds data and must outlive a deploy: today the one single-table-design table.
 * Kept apart from the functions so that replacing stateless resources can never replace it, and handed
 * to them as a typed prop. Later the event bus and the schedule group join it here.
 */
export class Stateful extends Construct {
  /** The single table. Its key schema and indexes come from `TABLE_SCHEMA`, like the local table's. */
  readonly table: TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    const globalSecondaryIndexes: GlobalSecondaryIndexPropsV2[] = GLOBAL_INDEXES.map((index) => ({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    }));

    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      globalSecondaryIndexes,
      billing: Billing.onDemand(),
      // The outbox: domain events are published from the stream, so it needs both images.
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The aws/dynamodb key: encryption at rest with CloudTrail-visible key use and no key to manage.
      encryption: TableEncryptionV2.awsManagedKey(),
      // Belt and braces: CloudFormation keeps the table when it leaves the stack, and DynamoDB refuses
      // a DeleteTable from anywhere until someone turns protection off on purpose.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
