import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { ErrorBody, Token } from '../../src/core/schemas.js';
import { sharedSerializers } from '../../src/daemon/serializers.js';

const route = (schema: unknown, url = '/v1/tokens') => ({ schema, method: 'GET', url, httpStatus: '200' });

describe('sharedSerializers', () => {
  it('compiles a schema once however many routes answer with it, even as a copy', () => {
    const compile = sharedSerializers();
    const page = Type.Object({ items: Type.Array(Token) });
    const first = compile(route(page));
    expect(compile(route(page, '/v1/users/:name/tokens'))).toBe(first);
    expect(compile(route(structuredClone(page), '/v1/serviceaccounts/:name/tokens'))).toBe(first);
    expect(compile(route(ErrorBody))).not.toBe(first);
  });

  it('keeps the schema an allow-list: a field it does not name is not written', () => {
    const compile = sharedSerializers();
    const token = { id: 't1', name: 'ci', subjectId: 's1', subjectName: 'alice', subjectType: 'user', policies: [], description: '', kind: 'session', createdAt: '2026-01-01T00:00:00.000Z', enabled: true, status: 'active' };
    const text = compile(route(Type.Object({ items: Type.Array(Token) })))({ items: [{ ...token, secret: 'rune_t1_leaked', hash: 'v1$x' }] });
    expect(JSON.parse(text)).toEqual({ items: [token] });
    expect(text).not.toMatch(/leaked|hash/);
  });

  it('two schemas that differ in any part are two serialisers', () => {
    const compile = sharedSerializers();
    const narrow = compile(route(Type.Object({ a: Type.String() })));
    const wide = compile(route(Type.Object({ a: Type.String(), b: Type.String() })));
    expect(narrow).not.toBe(wide);
    expect(JSON.parse(wide({ a: 'x', b: 'y' }))).toEqual({ a: 'x', b: 'y' });
    expect(JSON.parse(narrow({ a: 'x', b: 'y' }))).toEqual({ a: 'x' });
  });

  it("passes fastify's serializer options and added schemas on, as its own compiler does", () => {
    const shared = { $id: 'shared', type: 'object', properties: { n: { type: 'integer' } } };
    const compile = sharedSerializers({ shared }, { rounding: 'floor' });
    const serialize = compile(route({ type: 'object', properties: { inner: { $ref: 'shared#' } } }));
    expect(serialize({ inner: { n: 2.7, x: 1 } })).toBe('{"inner":{"n":2}}');
    // The added schema itself, answered by a route, is compiled without itself among the external ones.
    expect(compile(route(shared))({ n: 3.9 })).toBe('{"n":3}');
  });
});
