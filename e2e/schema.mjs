// Checks values against the plugin's JSON Schemas (plugin/schema/*.schema.json,
// draft 2020-12) with Ajv:
//
//   import { validate } from './schema.mjs';
//   const problems = validate('plan', result);   // null when valid
//   if (problems) throw new Error(problems);
//
// The three schemas refer to each other by relative `$ref`s (the plan holds
// its policy, and shares the inventory's digests, names and platforms), so
// all of them are loaded together.

import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/// The schemas `validate` knows, by the name it takes.
export const schemaNames = Object.freeze(['inventory', 'policy', 'plan']);

const SCHEMA_DIR = new URL('../plugin/schema/', import.meta.url);

const ajv = new Ajv2020({
  strict: true,
  allErrors: true,
  // The OpenAPI `discriminator` next to the tagged unions' `oneOf`: Ajv then
  // reports only the errors of the variant the tag names.
  discriminator: true,
});
addFormats(ajv);

const validators = new Map();
for (const name of schemaNames) {
  const schema = JSON.parse(readFileSync(new URL(`${name}.schema.json`, SCHEMA_DIR), 'utf8'));
  ajv.addSchema(schema, name);
}
for (const name of schemaNames) {
  validators.set(name, ajv.getSchema(name));
}

/// Checks `value` against the schema `name` (one of `schemaNames`). Returns
/// null when it is valid, else one line per error: where (a JSON Pointer into
/// the value; `(root)` for the value itself) and what is wrong.
export function validate(name, value) {
  const check = validators.get(name);
  if (!check) {
    throw new Error(`unknown schema ${JSON.stringify(name)}; expected one of ${schemaNames.join(', ')}`);
  }
  if (check(value)) {
    return null;
  }
  return readable(check.errors)
    .map(({ path, message }) => `${path || '(root)'}: ${message}`)
    .join('\n');
}

/// Ajv's errors as `{ path, message }`, without the summaries that only
/// repeat a more precise error (`must match a schema in anyOf`, `must be
/// null` beside the non-null alternative's complaint, `must match "then"
/// schema`), and with a bad key named in the messages about it.
function readable(errors) {
  const lines = [];
  for (const error of errors) {
    if (error.keyword === 'propertyNames') {
      // Ajv reports a key's own errors just before this one, at the same
      // path and without naming the key.
      const key = `property name ${JSON.stringify(error.params.propertyName)}`;
      let own = 0;
      for (let i = lines.length - 1; i >= 0; i--) {
        const line = lines[i];
        if (line.path !== error.instancePath || line.key !== undefined) break;
        line.key = key;
        own++;
      }
      if (own === 0) {
        lines.push({ path: error.instancePath, key, error, message: 'is invalid' });
      }
      continue;
    }
    lines.push({ path: error.instancePath, error, message: describe(error) });
  }
  // The errors of the same key at the same place, or anywhere below it.
  const related = (line, other) =>
    other !== line &&
    other.key === line.key &&
    (other.path === line.path || other.path.startsWith(`${line.path}/`));
  const summary = (line) =>
    ['anyOf', 'oneOf', 'if'].includes(line.error.keyword) ||
    (line.error.keyword === 'type' && line.error.params.type === 'null');
  return lines
    .filter((line) => !summary(line) || !lines.some((other) => !summary(other) && related(line, other)))
    .map(({ path, key, message }) => ({ path, message: key ? `${key} ${message}` : message }));
}

/// Ajv's message, with the parameter that makes it useful.
function describe(error) {
  switch (error.keyword) {
    case 'additionalProperties':
      return `${error.message} (${JSON.stringify(error.params.additionalProperty)})`;
    case 'const':
      return `${error.message} ${JSON.stringify(error.params.allowedValue)}`;
    case 'enum':
      return `${error.message}: ${error.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return error.message;
  }
}
