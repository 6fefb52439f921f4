/**
 * What the deployment tests share: reading YAML files of the repository (docker-compose.yml, the
 * Kubernetes manifests, the CI workflow) as plain data, and validating data against the JSON
 * schemas vendored under test/fixtures/schemas (their README names each one's source and commit).
 * Offline and fast: nothing here reaches a network or a Docker engine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ErrorObject, SchemaObject, ValidateFunction } from 'ajv';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCHEMAS = join(ROOT, 'test', 'fixtures', 'schemas');

/** A parsed YAML mapping, read field by field with the helpers below. */
export type Data = Record<string, unknown>;

export const readText = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/**
 * One YAML document of the repository as data. `<<` merge keys are resolved (Compose uses them);
 * YAML 1.2, as Compose and GitHub read it (`on:` stays a string). A duplicate key or a syntax
 * error throws.
 */
export const readYaml = (path: string): Data => {
  const value: unknown = parse(readText(path), { merge: true });
  if (!isData(value)) throw new Error(`${path}: not a YAML mapping`);
  return value;
};

/** Every document of a multi-document YAML file (`---` between them), each a mapping. */
export const readYamlDocuments = (path: string): Data[] =>
  parseAllDocuments(readText(path)).map((document, index) => {
    if (document.errors.length > 0) throw new Error(`${path}, document ${index + 1}: ${document.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = document.toJS();
    if (!isData(value)) throw new Error(`${path}, document ${index + 1}: not a YAML mapping`);
    return value;
  });

export const isData = (value: unknown): value is Data => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `data[key]` as a mapping; throws (naming the key) when it is missing or not one. */
export const field = (data: unknown, key: string): Data => {
  const value = isData(data) ? data[key] : undefined;
  if (!isData(value)) throw new Error(`expected a mapping at "${key}"`);
  return value;
};

/** `data[key]` as a list (empty when absent); throws when it is something else. */
export const list = (data: unknown, key: string): unknown[] => {
  const value = isData(data) ? data[key] : undefined;
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`expected a list at "${key}"`);
  return value;
};

/** The value at a dotted path (`spec.template.spec`), or undefined. */
export const at = (data: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (isData(value) ? value[key] : undefined), data);

/** A vendored schema file as a JSON object. */
const readSchema = (file: string): SchemaObject => {
  const value: unknown = JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8'));
  if (!isData(value)) throw new Error(`${file}: not a JSON schema object`);
  return value;
};

/**
 * A validator for the vendored schema `file`, in Ajv's default dialect, draft-07. The Compose
 * Specification names draft-07 as `https://json-schema.org/draft-07/schema` (Ajv knows only the
 * `http://…#` spelling) and the Kubernetes schemas name `http://json-schema.org/schema#` (a moving
 * "latest" URI; they use no keyword beyond draft-04's): such a `$schema` is dropped before
 * compiling, any other one is kept, so a schema of a later draft would fail here rather than be
 * read as draft-07. The formats they use (OpenAPI's int32, int64, byte; date-time) are checked,
 * never ignored. `strict: false` because these schemas carry keywords of their own
 * (`x-kubernetes-*`, `markdownDescription`), which Ajv's strict mode refuses; they validate nothing.
 */
export const schemaValidator = (file: string): ValidateFunction => {
  const schema = readSchema(file);
  const { $schema, ...rest } = schema;
  const draft07OrLatest = typeof $schema === 'string' && /^https?:\/\/json-schema\.org\/(draft-07\/)?schema#?$/.test($schema);
  const compiled = draft07OrLatest ? rest : schema;
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    formats: {
      'date-time': fullFormats['date-time'],
      int32: fullFormats.int32,
      int64: fullFormats.int64,
      byte: fullFormats.byte,
    },
  });
  return ajv.compile(compiled);
};

/** Ajv's errors as short lines (`/services/keel-api/deploy: must NOT have additional properties {…}`), for assertions. */
export const errorLines = (errors: readonly ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
