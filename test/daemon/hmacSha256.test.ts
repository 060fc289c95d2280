import fc from 'fast-check';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, utf8Into, verifySecret } from '../../src/daemon/crypto.js';
import { HmacSha256 } from '../../src/daemon/hmacSha256.js';

const reference = (key: Uint8Array, message: Uint8Array) => createHmac('sha256', key).update(message).digest();

describe('HmacSha256', () => {
  it('gives node:crypto\'s HMAC-SHA-256 for keys and messages of every length around the block boundaries', () => {
    const key = randomBytes(32);
    const mac = new HmacSha256(key);
    for (let length = 0; length <= 200; length++) {
      const message = randomBytes(length);
      expect(Buffer.from(mac.digest(message)).toString('hex'), `message of ${length} bytes`).toBe(reference(key, message).toString('hex'));
    }
    for (const keyLength of [0, 1, 31, 32, 63, 64, 65, 100, 128, 300]) {
      const k = randomBytes(keyLength);
      expect(Buffer.from(new HmacSha256(k).digest(Buffer.from('tok_x:secret'))).toString('hex'), `key of ${keyLength} bytes`).toBe(reference(k, Buffer.from('tok_x:secret')).toString('hex'));
    }
  });

  it('matches node:crypto for random keys and messages, and refuses any other MAC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 300 }), fc.nat(255), (key, message, flip) => {
        const mac = new HmacSha256(key);
        const expected = reference(key, message);
        expect(Buffer.from(mac.digest(message)).equals(expected)).toBe(true);
        expect(mac.verify(message, expected)).toBe(true);
        const wrong = Buffer.from(expected);
        wrong[flip % 32]! ^= 1 << flip % 8;
        expect(mac.verify(message, wrong)).toBe(false);
        expect(mac.verify(message, expected.subarray(0, 31))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('the RFC 4231 test vectors', () => {
    const cases: [string, string, string][] = [
      ['0b'.repeat(20), Buffer.from('Hi There').toString('hex'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
      [Buffer.from('Jefe').toString('hex'), Buffer.from('what do ya want for nothing?').toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
      ['aa'.repeat(131), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First').toString('hex'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    ];
    for (const [key, data, mac] of cases) expect(Buffer.from(new HmacSha256(Buffer.from(key, 'hex')).digest(Buffer.from(data, 'hex'))).toString('hex')).toBe(mac);
  });
});

describe('verifySecret', () => {
  it('accepts exactly the secret hashSecret hashed: any id and secret, ASCII or not, short or long', () => {
    const key = randomBytes(32);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ minLength: 250, maxLength: 400 })), fc.string({ maxLength: 80 }), (id, secret, other) => {
        const stored = hashSecret(key, id, secret);
        expect(verifySecret(key, id, secret, stored)).toBe(true);
        if (other !== secret) expect(verifySecret(key, id, other, stored)).toBe(false);
        expect(verifySecret(randomBytes(32), id, secret, stored)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a hash of another version or a damaged one', () => {
    const key = randomBytes(32);
    const stored = hashSecret(key, 'tok_a', 's3cret');
    expect(verifySecret(key, 'tok_a', 's3cret', stored.replace(/^v1\$/, 'v2$'))).toBe(false);
    expect(verifySecret(key, 'tok_a', 's3cret', stored.slice(0, -4))).toBe(false);
    expect(verifySecret(key, 'tok_a', 's3cret', 'v1$')).toBe(false);
    expect(verifySecret(key, 'tok_a', 's3cret', '')).toBe(false);
  });

  it('refuses every other spelling of the right bytes: padding, +/, spare bits, junk around it', () => {
    const key = randomBytes(32);
    // Try many secrets so the hash text has '-'/'_' and a last character whose spare-bit variants exist.
    for (let n = 0; n < 50; n++) {
      const secret = `s${n}`;
      const stored = hashSecret(key, 'tok_b', secret);
      const body = stored.slice(3);
      expect(verifySecret(key, 'tok_b', secret, stored)).toBe(true);
      const bytes = Buffer.from(body, 'base64url');
      // Spellings Buffer decodes to the very same 32 bytes.
      const sameBytes = [`${stored}=`, `v1$${body.replace(/-/g, '+').replace(/_/g, '/')}`];
      // The last character carries two spare bits: setting them decodes to the same bytes too.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(body.at(-1)!);
      for (let spare = 1; spare < 4; spare++) sameBytes.push(`v1$${body.slice(0, -1)}${alphabet[last + spare]}`);
      for (const v of sameBytes.filter((v) => v !== stored)) {
        expect(Buffer.from(v.slice(3), 'base64').equals(bytes), v).toBe(true);
        expect(verifySecret(key, 'tok_b', secret, v), v).toBe(false);
      }
      for (const v of [`v1$$${body}`, ` ${stored}`, `${stored}\n`, `${stored}A`, `v1$${body.slice(0, 21)} ${body.slice(21)}`]) {
        expect(verifySecret(key, 'tok_b', secret, v), v).toBe(false);
      }
    }
  });
});

describe('utf8Into', () => {
  it('copies ASCII into the reused buffer and leaves nothing of a non-ASCII text there', () => {
    const into = new Uint8Array(64);
    expect(Buffer.from(utf8Into('tok_a:abc', into)).toString()).toBe('tok_a:abc');
    into.fill(0);
    const bytes = utf8Into('tok_a:secret-prefix-é', into);
    expect(Buffer.from(bytes).toString('utf8')).toBe('tok_a:secret-prefix-é');
    expect(into.every((b) => b === 0)).toBe(true);
    const long = 'x'.repeat(65);
    expect(Buffer.from(utf8Into(long, into)).toString()).toBe(long);
    expect(into.every((b) => b === 0)).toBe(true);
  });
});
