/**
 * Configuration, read once at cold start. A missing required variable stops the function with its name
 * rather than running with a silent default.
 */
export interface Config {
  tableName: string;
  /** Only for DynamoDB Local. */
  dynamodbEndpoint: string | undefined;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`missing required environment variable ${name}`);
  return value;
}

export function loadConfig(): Config {
  return {
    tableName: required('TABLE_NAME'),
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT || undefined,
  };
}
