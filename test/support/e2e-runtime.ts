import { afterAll, beforeAll } from '@jest/globals';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.ts';

/**
 * One local runtime (`npm start`) for a test file, on the shared DynamoDB Local table of jest's globalSetup,
 * started before the file's tests and stopped after them. Answers a getter: the runtime exists once beforeAll ran.
 */
export function localRuntimeForFile(): () => LocalRuntime {
  let runtime: LocalRuntime | null = null;
  beforeAll(async () => {
    runtime = await startLocalRuntime({
      port: 0,
      dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
      tableName: process.env.TABLE_NAME,
    });
  });
  afterAll(async () => {
    await runtime?.stop();
  });
  return () => {
    if (!runtime) throw new Error('the local runtime has not started');
    return runtime;
  };
}
