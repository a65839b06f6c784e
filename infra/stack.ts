import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ROUTES, type RouteAccess, type RouteDefinition } from '../shared/http/routes.ts';
import { ApiFunction } from './constructs/api-function.ts';
import { Auth } from './constructs/auth.ts';
import { Stateful } from './constructs/stateful.ts';
import { FUNCTION_DEFINITIONS } from './definitions.ts';
import { acknowledgeNagFindings } from './nag-suppressions.ts';

/** Steady-state and burst limits for every route of the default stage; per-route limits can come later. */
const DEFAULT_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/** One API Gateway route and the spec in `ROUTES` it was made from. */
export interface ApiRoute {
  readonly spec: RouteDefinition;
  readonly route: HttpRoute;
}

/**
 * membergate: the table (stateful), one Lambda per function definition, the HTTP API with exactly the
 * routes of `ROUTES`, and the Cognito pool its JWT authorizer trusts. Environment-agnostic: no lookups,
 * so `cdk synth` runs offline without credentials.
 */
export class MembergateStack extends Stack {
  readonly stateful: Stateful;
  readonly auth: Auth;
  /** Functions by definition name (`catalog`, `purchases`, `access`, …). */
  readonly functions: ReadonlyMap<string, ApiFunction>;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly routes: readonly ApiRoute[];

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.stateful = new Stateful(this, 'Stateful');
    this.auth = new Auth(this, 'Auth');

    const functions = new Map<string, ApiFunction>();
    for (const definition of FUNCTION_DEFINITIONS) {
      const fn = new ApiFunction(this, constructId(definition.name), {
        entry: definition.entry,
        handler: definition.handler,
        description: `membergate ${definition.name}`,
      });
      fn.bindTable(this.stateful.table, definition.tableAccess);
      functions.set(definition.name, fn);
    }
    this.functions = functions;

    // The default stage is declared by hand: HttpApi's automatic one takes no access log or throttle.
    this.api = new HttpApi(this, 'HttpApi', { createDefaultStage: false, description: 'membergate HTTP API' });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.ONE_MONTH });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: DEFAULT_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    const integrations = new Map<string, HttpLambdaIntegration>();
    const integrationFor = (fnName: string): HttpLambdaIntegration => {
      let integration = integrations.get(fnName);
      if (!integration) {
        const fn = functions.get(fnName);
        if (!fn) throw new Error(`ROUTES names function "${fnName}", which has no function definition`);
        integration = new HttpLambdaIntegration(`${constructId(fnName)}Integration`, fn.function);
        integrations.set(fnName, integration);
      }
      return integration;
    };
    const noAuthorizer = new HttpNoneAuthorizer();
    const authorizerFor = (access: RouteAccess): IHttpRouteAuthorizer => {
      switch (access) {
        case 'staff':
        case 'customer':
          return this.auth.authorizer;
        // Health is open; webhooks carry the processor's signature, not a JWT, and are verified in code.
        case 'public':
        case 'webhook':
          return noAuthorizer;
      }
    };

    this.routes = ROUTES.map((spec): ApiRoute => {
      const [route] = this.api.addRoutes({
        path: spec.path,
        methods: [HttpMethod[spec.method]],
        integration: integrationFor(spec.fn),
        authorizer: authorizerFor(spec.access),
      });
      if (!route) throw new Error(`no route created for ${spec.method} ${spec.path}`);
      return { spec, route };
    });

    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'TableName', { value: this.stateful.table.tableName });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.auth.userPoolClient.userPoolClientId });

    acknowledgeNagFindings(this);
  }
}

/** `purchases` → `Purchases`: construct ids (and so logical ids) stay stable and readable. */
function constructId(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
