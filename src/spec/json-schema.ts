/**
 * The published JSON Schemas (`jobs/schema/*.schema.json`), generated from the
 * same description that validates the files, so editors and `hashiship validate`
 * agree on the structure. Semantic rules (port references, canary ≤ count, …)
 * are only checked by `hashiship validate`.
 */
import { toJsonSchema } from './dsl.js';
import { environmentSchema, externalSchema, serviceSchema } from './schema.js';

/** The schema files by name, as pretty-printed JSON text. */
export function jsonSchemaFiles(): Record<string, string> {
  const doc = (id: string, title: string, body: Record<string, unknown>): string =>
    `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', $id: id, title, ...body }, null, 2)}\n`;
  return {
    'service.schema.json': doc('https://hashiship.dev/schema/service.schema.json', 'hashiship service spec', toJsonSchema(serviceSchema)),
    'environment.schema.json': doc(
      'https://hashiship.dev/schema/environment.schema.json',
      'hashiship environment',
      toJsonSchema(environmentSchema),
    ),
    'external.schema.json': doc('https://hashiship.dev/schema/external.schema.json', 'hashiship external service', toJsonSchema(externalSchema)),
  };
}
