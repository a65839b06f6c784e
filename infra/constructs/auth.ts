import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import {
  AccountRecovery,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  StringAttribute,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/**
 * Who may call the API: a Cognito user pool whose ID tokens carry `custom:role`, `custom:siteId` and
 * `custom:customerId` (the claims `shared/http/principal.ts` reads), one app client, and the HTTP API JWT
 * authorizer that checks those tokens' signature, issuer, audience and expiry before a function runs.
 * Roles and tenancy are then decided in the handler, the same way on AWS and locally.
 */
export class Auth extends Construct {
  readonly userPool: UserPool;
  readonly userPoolClient: UserPoolClient;
  readonly authorizer: HttpJwtAuthorizer;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.userPool = new UserPool(this, 'UserPool', {
      // Operators create staff, automation and customer users (AdminCreateUser) with their role and site;
      // nobody can enrol themselves.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        role: new StringAttribute({ mutable: true, minLen: 1, maxLen: 32 }),
        siteId: new StringAttribute({ mutable: true, minLen: 1, maxLen: 128 }),
        customerId: new StringAttribute({ mutable: true, minLen: 1, maxLen: 128 }),
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      // TOTP for the humans who want it; not required, see the nag acknowledgement for why.
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.userPoolClient = this.userPool.addClient('Client', {
      authFlows: { userSrp: true },
      // No hosted UI, so no OAuth: CDK's default would allow the implicit grant to a placeholder callback.
      disableOAuth: true,
      generateSecret: false,
      preventUserExistenceErrors: true,
      // Without this list a client may write every mutable attribute, and a customer could call
      // UpdateUserAttributes to give themselves `custom:role=admin` or another site. Role, site and
      // customer id are set by operators through the admin API only.
      writeAttributes: new ClientAttributes().withStandardAttributes({ fullname: true }),
    });

    // Built from tokens, not looked up, so the stack stays environment-agnostic and synthesizes offline.
    const stack = Stack.of(this);
    const issuer = `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${this.userPool.userPoolId}`;
    this.authorizer = new HttpJwtAuthorizer('CognitoJwt', issuer, {
      jwtAudience: [this.userPoolClient.userPoolClientId],
      identitySource: ['$request.header.Authorization'],
    });
  }
}
