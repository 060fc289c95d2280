import { describe, expect, it } from 'vitest';
import { mintToken, parseToken } from '../../src/core/tokenFormat.js';

describe('token format', () => {
  it('mints rune_<id>_<secret><checksum> that parses back to its id and secret', () => {
    const t = mintToken();
    expect(t.bearer).toMatch(/^rune_tok_[0-9A-Za-z]{20}_[0-9A-Za-z]{49}$/);
    expect(parseToken(t.bearer)).toEqual({ ok: true, id: t.id, secret: t.secret });
  });

  it('mints a different secret every time', () => {
    const secrets = new Set(Array.from({ length: 200 }, () => mintToken().secret));
    expect(secrets.size).toBe(200);
  });

  it('rejects a single mistyped character by checksum, before any lookup', () => {
    const t = mintToken();
    const i = t.bearer.length - 10;
    const typo = t.bearer.slice(0, i) + (t.bearer[i] === 'a' ? 'b' : 'a') + t.bearer.slice(i + 1);
    expect(parseToken(typo)).toMatchObject({ ok: false, reason: 'bad_checksum', id: t.id });
  });

  it.each(['', 'rune_', 'Bearer x', 'rune_tok_short_abc', mintToken().bearer + 'x', mintToken().bearer.replace('rune_', 'rume_')])(
    'rejects malformed %j',
    (text) => expect(parseToken(text)).toMatchObject({ ok: false, reason: 'malformed' }),
  );
});
