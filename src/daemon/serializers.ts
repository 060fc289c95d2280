import fastJsonStringify, { type Options, type Schema } from 'fast-json-stringify';

type Serializer = (data: unknown) => string;

/**
 * fastify's serializer factory (`schemaController.compilersFactory.buildSerializer`), compiling
 * each distinct response schema once: the routes share their answers (a token, a page of tokens,
 * the error body), so of ~200 route and status pairs only ~35 schemas differ, and each compiled
 * serialiser is code V8 keeps for the daemon's life. fastify calls it with its serializer options
 * and the schemas added with addSchema, which are passed on as its own compiler does; one factory
 * call serves one set of them, so within it a schema is known by its JSON text (our schemas are
 * plain JSON Schema: no keyword of theirs is a function, undefined or inherited).
 */
export function sharedSerializers(externalSchemas?: unknown, serializerOpts?: Options): (route: { schema?: unknown }) => Serializer {
  const external = (externalSchemas ?? {}) as Record<string, Schema>;
  const compiled = new Map<string, Serializer>();
  return ({ schema }) => {
    const key = JSON.stringify(schema);
    let serialize = compiled.get(key);
    if (!serialize) {
      // As fastify's own compiler: a schema is not passed as an external schema of itself.
      const $id = (schema as { $id?: string }).$id;
      const schemas = $id !== undefined && $id in external ? Object.fromEntries(Object.entries(external).filter(([id]) => id !== $id)) : external;
      serialize = fastJsonStringify(schema as Schema, { ...serializerOpts, schema: schemas }) as Serializer;
      compiled.set(key, serialize);
    }
    return serialize;
  };
}
