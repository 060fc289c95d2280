import fastJsonStringify, { type Schema } from 'fast-json-stringify';

type Serializer = (data: unknown) => string;

/**
 * fastify's serializer compiler, compiling each distinct response schema once: the routes share
 * their answers (a token, a page of tokens, the error body), so of ~200 route and status pairs
 * only ~35 schemas differ, and each compiled serialiser is code V8 keeps for the daemon's life.
 * A schema is known by its JSON text, which is all fast-json-stringify reads of it. No schema is
 * registered with addSchema, so no external schemas are passed, as fastify's own compiler would.
 */
export function sharedSerializerCompiler(): (route: { schema: unknown }) => Serializer {
  const compiled = new Map<string, Serializer>();
  return ({ schema }) => {
    const key = JSON.stringify(schema);
    let serialize = compiled.get(key);
    if (!serialize) {
      serialize = fastJsonStringify(schema as Schema) as Serializer;
      compiled.set(key, serialize);
    }
    return serialize;
  };
}
