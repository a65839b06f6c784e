import { readFileSync } from 'node:fs';

/**
 * Holds an HTTP answer of the local runtime to the OpenAPI document (openapi.json at the repository root, which
 * test/unit/openapi.test.ts keeps equal to a fresh generation): the operation by method and path template,
 * then the status, the content type and the body. The e2e clients (./e2e-http.ts) call it on every answer,
 * and any other test (the fuzz suite) may call `responseProblems` or `assertDocumentedResponse`.
 *
 * The schemas are JSON Schema draft 2020-12. The validator of choice would be ajv (`ajv/dist/2020`), but it is
 * not among the project's packages; this one implements the keywords the generated document uses, and
 * refuses any other keyword or format it meets (never a silent pass), so a schema feature it does not know
 * fails the e2e tests loudly rather than passing unchecked. test/unit/openapi-validation.test.ts shows it
 * accepting and refusing.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

interface Operation {
  responses: Record<string, Schema>;
}

export interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses?: Record<string, Schema> };
}

/** One answer as a client saw it. `path` may carry a query string; it is not part of the match. */
export interface ObservedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  /** The parsed JSON body, or undefined when the body was empty. */
  body: unknown;
}

const DOCUMENT_FILE = new URL('../../openapi.json', import.meta.url);
let loaded: Document | undefined;
/** The committed document, read once. */
export function apiDocument(): Document {
  loaded ??= JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as Document;
  return loaded;
}

/** Keywords that only annotate: they never make a value invalid. */
const ANNOTATIONS = new Set(['description', 'example', 'examples', 'default', 'title', 'deprecated', '$comment']);

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const FORMATS: Record<string, (value: string) => boolean> = {
  'date-time': (value) => RFC3339.test(value) && !Number.isNaN(Date.parse(value)),
  email: (value) => /^[^\s@]+@[^\s@]+$/.test(value),
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function isType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function resolve(document: Document, ref: string): Schema {
  const match = /^#\/components\/(schemas|responses)\/([^/]+)$/.exec(ref);
  const target = match ? document.components[match[1] as 'schemas' | 'responses']?.[match[2]!] : undefined;
  if (!target) throw new Error(`unresolvable $ref ${ref}`);
  return target;
}

/** The problems of `value` against `schema`, each with its JSON path; empty when it is valid. */
export function schemaProblems(document: Document, schema: Schema, value: unknown, at = '$'): string[] {
  const problems: string[] = [];
  for (const [keyword, argument] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    switch (keyword) {
      case '$ref':
        problems.push(...schemaProblems(document, resolve(document, argument as string), value, at));
        break;
      case 'type': {
        const types = Array.isArray(argument) ? (argument as string[]) : [argument as string];
        if (!types.some((type) => isType(value, type)))
          problems.push(`${at}: ${typeOf(value)} is not ${types.join('|')}`);
        break;
      }
      case 'const':
        if (JSON.stringify(value) !== JSON.stringify(argument)) {
          problems.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(argument)}`);
        }
        break;
      case 'enum':
        if (!(argument as Json[]).some((option) => JSON.stringify(option) === JSON.stringify(value))) {
          problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(argument)}`);
        }
        break;
      case 'anyOf':
      case 'oneOf': {
        const branches = (argument as Schema[]).map((branch) => schemaProblems(document, branch, value, at));
        const passing = branches.filter((branch) => branch.length === 0).length;
        if (passing === 0) {
          const closest = branches.reduce((best, branch) => (branch.length < best.length ? branch : best));
          problems.push(`${at}: matches none of ${keyword} (closest: ${closest.join('; ')})`);
        } else if (keyword === 'oneOf' && passing > 1) problems.push(`${at}: matches ${passing} branches of oneOf`);
        break;
      }
      case 'allOf':
        for (const branch of argument as Schema[]) problems.push(...schemaProblems(document, branch, value, at));
        break;
      case 'properties':
        if (typeOf(value) === 'object') {
          for (const [name, property] of Object.entries(argument as Record<string, Schema>)) {
            const object = value as Record<string, unknown>;
            if (name in object) problems.push(...schemaProblems(document, property, object[name], `${at}.${name}`));
          }
        }
        break;
      case 'required':
        if (typeOf(value) === 'object') {
          for (const name of argument as string[]) {
            if (!(name in (value as object))) problems.push(`${at}: misses required field ${name}`);
          }
        }
        break;
      case 'additionalProperties':
        if (typeOf(value) === 'object') {
          const declared = (schema.properties ?? {}) as Record<string, Schema>;
          for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
            if (name in declared) continue;
            if (argument === false) problems.push(`${at}: field ${name} is not in the document`);
            else problems.push(...schemaProblems(document, argument as Schema, item, `${at}.${name}`));
          }
        }
        break;
      case 'propertyNames':
        if (typeOf(value) === 'object') {
          for (const name of Object.keys(value as object)) {
            problems.push(...schemaProblems(document, argument as Schema, name, `${at}[key ${name}]`));
          }
        }
        break;
      case 'items':
        if (Array.isArray(value)) {
          value.forEach((item, index) => {
            problems.push(...schemaProblems(document, argument as Schema, item, `${at}[${index}]`));
          });
        }
        break;
      case 'minItems':
      case 'maxItems':
        if (
          Array.isArray(value) &&
          (keyword === 'minItems' ? value.length < (argument as number) : value.length > (argument as number))
        ) {
          problems.push(`${at}: ${value.length} items breaks ${keyword} ${argument}`);
        }
        break;
      case 'minLength':
      case 'maxLength':
        if (typeof value === 'string') {
          const length = [...value].length;
          if (keyword === 'minLength' ? length < (argument as number) : length > (argument as number)) {
            problems.push(`${at}: length ${length} breaks ${keyword} ${argument}`);
          }
        }
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(argument as string, 'u').test(value)) {
          problems.push(`${at}: ${JSON.stringify(value)} does not match ${argument}`);
        }
        break;
      case 'format': {
        const check = FORMATS[argument as string];
        if (!check) throw new Error(`${at}: format ${argument} is not implemented by this validator`);
        if (typeof value === 'string' && !check(value))
          problems.push(`${at}: ${JSON.stringify(value)} is not a ${argument}`);
        break;
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof value === 'number') {
          const bound = argument as number;
          const broken = {
            minimum: value < bound,
            maximum: value > bound,
            exclusiveMinimum: value <= bound,
            exclusiveMaximum: value >= bound,
          }[keyword];
          if (broken) problems.push(`${at}: ${value} breaks ${keyword} ${bound}`);
        }
        break;
      default:
        throw new Error(`${at}: JSON Schema keyword ${keyword} is not implemented by this validator`);
    }
  }
  return problems;
}

/** `/sites/{siteId}/purchases/{purchaseId}` → a regex of the concrete paths it stands for. */
function templatePattern(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

/** The path template a concrete path belongs to; the most literal one when several match. */
export function pathTemplate(document: Document, path: string): string | null {
  const bare = path.split('?')[0]!;
  const matches = Object.keys(document.paths).filter((template) => templatePattern(template).test(bare));
  const params = (template: string) => (template.match(/\{/g) ?? []).length;
  return matches.sort((a, b) => params(a) - params(b))[0] ?? null;
}

/** Paths the local runtime adds for development (`/local/*`): not part of the API, so not in the document. */
export function isLocalOnly(path: string): boolean {
  return path.startsWith('/local/');
}

function unroutedProblems(document: Document, observed: ObservedResponse, label: string): string[] {
  if (observed.status !== 404)
    return [`${label}: no operation of the document takes this request, so only 404 may answer it`];
  return schemaProblems(document, { $ref: '#/components/schemas/Error' }, observed.body).map((p) => `${label}: ${p}`);
}

/** Everything wrong with an answer according to the document; empty when it is documented. */
export function responseProblems(observed: ObservedResponse, document: Document = apiDocument()): string[] {
  const label = `${observed.method} ${observed.path} → ${observed.status}`;
  const template = pathTemplate(document, observed.path);
  const operation = template ? document.paths[template]![observed.method.toLowerCase()] : undefined;
  // A request no route takes is the gateway's: a 404 with the documented error body, and nothing else.
  if (!operation) return unroutedProblems(document, observed, label);
  let response = operation.responses[String(observed.status)];
  if (!response) {
    return [
      `${label}: status ${observed.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`,
    ];
  }
  if (typeof response.$ref === 'string') response = resolve(document, response.$ref);
  const content = response.content as Record<string, { schema: Schema }> | undefined;
  if (!content) {
    return observed.body === undefined ? [] : [`${label}: the document says no body, the answer has one`];
  }
  const mediaType = (observed.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const media = content[mediaType];
  if (!media)
    return [`${label}: content type ${observed.contentType} is not documented (${Object.keys(content).join(', ')})`];
  if (observed.body === undefined) return [`${label}: the document describes a body, the answer has none`];
  return schemaProblems(document, media.schema, observed.body).map((problem) => `${label}: ${problem}`);
}

/** Throws with every problem when the answer is not what the document says (local-only paths pass). */
export function assertDocumentedResponse(observed: ObservedResponse, document: Document = apiDocument()): void {
  if (isLocalOnly(observed.path.split('?')[0]!)) return;
  const problems = responseProblems(observed, document);
  if (problems.length > 0) {
    throw new Error(
      `the answer is not what openapi.json documents:\n${problems.join('\n')}\nbody: ${JSON.stringify(observed.body)}`,
    );
  }
}
