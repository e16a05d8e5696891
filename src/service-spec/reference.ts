/**
 * The key reference of docs/spec.md, generated from the schema so the docs
 * cannot drift from what `hashiship validate` accepts (`npm run golden` writes it,
 * a unit test checks it).
 */
import type { ObjectSchema, Schema } from './dsl.js';
import { environmentSchema, externalSchema, serviceSchema } from './schema.js';

function typeOf(s: Schema): string {
  switch (s.type) {
    case 'string':
      if (s.enum !== undefined) return s.enum.map((e) => `\`${e}\``).join(' \\| ');
      return s.format === 'duration' ? 'duration' : s.integerAsText === true ? 'string or integer' : 'string';
    case 'array':
      return `list of ${s.items.type === 'object' ? 'maps' : typeOf(s.items)}`;
    case 'map':
      return `map of ${s.values.type === 'object' ? 'maps' : typeOf(s.values)}`;
    case 'object':
      return 'map';
    case 'any':
      return 'map (Nomad API fields)';
    default:
      return s.type;
  }
}

function nestedObject(s: Schema): ObjectSchema | undefined {
  if (s.type === 'object') return s;
  if (s.type === 'array' && s.items.type === 'object') return s.items;
  if (s.type === 'map' && s.values.type === 'object') return s.values;
  return undefined;
}

function table(title: string, o: ObjectSchema, out: string[], seen: Set<ObjectSchema>): void {
  if (seen.has(o)) return;
  seen.add(o);
  out.push(`#### \`${title}\``, '', o.description, '', '| key | type | default | meaning |', '|---|---|---|---|');
  const nested: [string, ObjectSchema][] = [];
  for (const [k, v] of Object.entries(o.properties)) {
    if (k === '$schema') continue;
    const req = (o.required ?? []).includes(k) ? ' (required)' : '';
    const d = v.default === undefined ? '' : `\`${Array.isArray(v.default) ? JSON.stringify(v.default) : String(v.default)}\``;
    out.push(`| \`${k}\`${req} | ${typeOf(v)} | ${d} | ${v.description.replace(/\|/g, '\\|')} |`);
    const inner = nestedObject(v);
    if (inner !== undefined) nested.push([`${title}.${k}${v.type === 'array' ? '[]' : v.type === 'map' ? '.<name>' : ''}`, inner]);
  }
  out.push('');
  for (const [t, s] of nested) table(t, s, out, seen);
}

/** Markdown tables of every key of service, environment and external service files. */
export function referenceMarkdown(): string {
  const out: string[] = [];
  const seen = new Set<ObjectSchema>();
  table('service', serviceSchema, out, seen);
  table('environment', environmentSchema, out, seen);
  table('external', externalSchema, out, seen);
  return out.join('\n');
}
