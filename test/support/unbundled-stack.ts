import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MembergateStack } from '../../infra/stack.ts';

/**
 * The stack as the infra tests read it: cdk.json's flags and context, functions left unbundled
 * (`aws:cdk:bundling-stacks`: none). Only test/infra/stack.test.ts bundles and loads every function.
 */

export type Json = Record<string, unknown>;
export interface Resource {
  Type: string;
  Properties: Json;
}
export interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

/** The `context` of cdk.json, as `cdk synth` reads it. */
export const cdkJsonContext = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../../cdk.json', import.meta.url)), 'utf8')) as { context?: Json }
).context;

/** A stack synthesized with cdk.json's context plus `context`; `extend` adds constructs before synthesis. */
export function synthesize(context: Json = {}, extend?: (stack: MembergateStack) => void) {
  const app = new App({ context: { ...(cdkJsonContext ?? {}), 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new MembergateStack(app, 'Membergate');
  extend?.(stack);
  const template = Template.fromStack(stack);
  return { app, stack, template, resources: template.toJSON().Resources as Record<string, Resource> };
}

/** The logical id of a construct's CloudFormation resource in `stack`. */
export const logicalIdIn = (stack: MembergateStack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

export const ofType = (resources: Record<string, Resource>, type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);

export const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });
