/**
 * A small schema language for the spec files: one description serves three
 * purposes — structural validation with positions (src/service-spec/check.ts), the
 * published JSON Schema (for editors) and the reference tables in docs/spec.md.
 */

interface Base {
  /** One sentence for editors and the docs. */
  readonly description: string;
  /** The value hashiship uses when the key is absent (documentation only). */
  readonly default?: string | number | boolean | readonly string[];
}

export interface StringSchema extends Base {
  readonly type: 'string';
  readonly pattern?: RegExp;
  /** Says in words what `pattern` requires; shown in messages. */
  readonly hint?: string;
  readonly enum?: readonly string[];
  /** `duration`: a Go duration such as 30s or 1m30s. */
  readonly format?: 'duration';
  readonly maxLength?: number;
  /** Also accept an integer, taken as its decimal text (numeric port labels). */
  readonly integerAsText?: boolean;
}

export interface IntegerSchema extends Base {
  readonly type: 'integer';
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface NumberSchema extends Base {
  readonly type: 'number';
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface BooleanSchema extends Base {
  readonly type: 'boolean';
}

export interface ObjectSchema extends Base {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
}

/** An object with free keys (meta, env, ports, environment overrides). */
export interface MapSchema extends Base {
  readonly type: 'map';
  readonly keyPattern: RegExp;
  readonly keyHint: string;
  readonly values: Schema;
}

export interface ArraySchema extends Base {
  readonly type: 'array';
  readonly items: Schema;
  readonly minItems?: number;
}

/**
 * Any YAML value, kept as plain data with the position of every nested value
 * (the `nomad:` escape hatch; src/nomad/raw.ts checks it against Nomad's API).
 */
export interface AnySchema extends Base {
  readonly type: 'any';
  /** A JSON Schema reference published for editors, e.g. `nomad-api.schema.json#/definitions/Job`. */
  readonly ref?: string;
}

export type Schema = AnySchema | StringSchema | IntegerSchema | NumberSchema | BooleanSchema | ObjectSchema | MapSchema | ArraySchema;

/** Go duration syntax, for the JSON Schema. */
export const DURATION_PATTERN = /^(0|[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

/** A schema as JSON Schema (draft-07, what yaml-language-server reads best). */
export function toJsonSchema(s: Schema): Record<string, unknown> {
  const common: Record<string, unknown> = { description: s.description };
  if (s.default !== undefined) common['default'] = s.default;
  switch (s.type) {
    case 'string': {
      const out: Record<string, unknown> = { type: s.integerAsText === true ? ['string', 'integer'] : 'string', ...common };
      if (s.enum !== undefined) out['enum'] = [...s.enum];
      if (s.format === 'duration') out['pattern'] = DURATION_PATTERN.source;
      else if (s.pattern !== undefined) out['pattern'] = s.pattern.source;
      if (s.maxLength !== undefined) out['maxLength'] = s.maxLength;
      return out;
    }
    case 'integer':
    case 'number': {
      const out: Record<string, unknown> = { type: s.type, ...common };
      if (s.minimum !== undefined) out['minimum'] = s.minimum;
      if (s.maximum !== undefined) out['maximum'] = s.maximum;
      return out;
    }
    case 'boolean':
      return { type: 'boolean', ...common };
    case 'any':
      return s.ref === undefined ? { ...common } : { ...common, $ref: s.ref };
    case 'object': {
      const properties: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties)) properties[k] = toJsonSchema(v);
      return {
        type: 'object',
        ...common,
        properties,
        ...(s.required === undefined || s.required.length === 0 ? {} : { required: [...s.required] }),
        additionalProperties: false,
      };
    }
    case 'map':
      return {
        type: 'object',
        ...common,
        propertyNames: { pattern: s.keyPattern.source },
        additionalProperties: toJsonSchema(s.values),
      };
    case 'array':
      return {
        type: 'array',
        ...common,
        items: toJsonSchema(s.items),
        ...(s.minItems === undefined ? {} : { minItems: s.minItems }),
      };
  }
}
