import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MembergateStack } from './stack.ts';

// No `env`: the stack is environment-agnostic (no lookups), so `cdk synth` works offline without an
// account; `cdk deploy` takes account and region from the caller's credentials.
const app = new App();
new MembergateStack(app, 'Membergate', {
  description: 'membergate: access and billing-lifecycle backend (HTTP API, Lambda, DynamoDB, Cognito)',
});

// cdk-nag 3 is a policy-validation plugin (not an Aspect as in v2): unacknowledged findings fail synthesis.
// Acknowledgements, each with its reason, live in ./nag-suppressions.ts.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
