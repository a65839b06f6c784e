import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { TimerEvent } from '../../shared/ports/scheduler.ts';
import { keys } from '../../shared/store/keys.ts';
import { Table } from '../../shared/store/table.ts';

export interface LocalSchedule {
  name: string;
  timer: TimerEvent;
}

/**
 * Where the local Scheduler stand-in keeps its timers, in DynamoDB Local beside the data, so they survive a
 * restart of `npm start` like EventBridge Scheduler's do. Local runtime only: on AWS, Scheduler keeps them.
 */
export class LocalScheduleStore {
  private readonly table: Table;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.table = new Table(db, tableName);
  }

  async put(schedule: LocalSchedule): Promise<void> {
    await this.table.db.send(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...keys.localSchedule(schedule.name), entity: 'localSchedule', ...schedule },
      }),
    );
  }

  async delete(name: string): Promise<void> {
    await this.table.db.send(new DeleteCommand({ TableName: this.table.name, Key: keys.localSchedule(name) }));
  }

  async list(): Promise<LocalSchedule[]> {
    const found = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.localSchedulePartition },
      ConsistentRead: true,
    });
    return found.map((item) => ({ name: String(item.name), timer: item.timer as TimerEvent }));
  }
}
