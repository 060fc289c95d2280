import { describe, expect, it } from 'vitest';
import { mintToken, parseToken, redactSecrets } from '../../src/core/tokenFormat.js';

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

describe('redactSecrets', () => {
  const t = mintToken();
  it.each([
    [`DELETE /v1/tokens/${t.bearer}`, `DELETE /v1/tokens/rune_${t.id}_[redacted]`],
    [`token "${t.bearer.slice(0, 40)}" not found`, `token "rune_${t.id}_[redacted]" not found`],
    [`Bearer ${t.bearer.slice(0, 18)}`, 'Bearer rune_[redacted]'],
    ['no secrets here: rune_x', 'no secrets here: rune_x'],
    [`two: ${t.bearer} ${t.bearer}`, `two: rune_${t.id}_[redacted] rune_${t.id}_[redacted]`],
  ])('%s', (text, redacted) => {
    expect(redactSecrets(text)).toBe(redacted);
    expect(redactSecrets(text)).not.toContain(t.secret.slice(0, 8));
  });
});
