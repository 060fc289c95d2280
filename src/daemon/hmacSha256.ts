/**
 * HMAC-SHA-256 (RFC 2104 over FIPS 180-4) in JavaScript, for checking token secrets on every
 * authenticated request.
 *
 * Why not node:crypto there: on Node 20 with OpenSSL 3, every `createHmac` fetches its digest
 * implementation anew. In a tight loop that costs ~3.5 µs, but inside runed under load, with
 * cold caches, it measured ~15 µs a call: a fifth of a cached list request. This one keeps the
 * key's inner and outer states computed once per key, so a check is three compressions of plain
 * arithmetic (~1–2 µs), with no table lookup or branch on secret data. node:crypto still makes
 * every stored hash (crypto.ts); tests compare the two on random keys and messages of every length
 * around the block boundaries.
 */

const K = new Int32Array(64);
const IV = new Int32Array(8);
{
  // The first 32 bits of the fractional parts of the cube roots of the first 64 primes (K) and of
  // the square roots of the first 8 (IV), as FIPS 180-4 defines them.
  const primes: number[] = [];
  for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  const frac32 = (x: number) => (x - Math.floor(x)) * 2 ** 32;
  primes.forEach((p, i) => (K[i] = frac32(Math.cbrt(p)) | 0));
  primes.slice(0, 8).forEach((p, i) => (IV[i] = frac32(Math.sqrt(p)) | 0));
}

const W = new Int32Array(64);

/** One SHA-256 compression of the 64-byte block at `block[offset…]` into `state`. */
function compress(state: Int32Array, block: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const o = offset + i * 4;
    W[i] = (block[o]! << 24) | (block[o + 1]! << 16) | (block[o + 2]! << 8) | block[o + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15]!;
    const b = W[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!, e = state[4]!, f = state[5]!, g = state[6]!, h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/** Compresses `data` after `prefixBlocks` blocks already in `state`, with SHA-256's padding; the digest is left in `state`. */
function finish(state: Int32Array, data: Uint8Array, prefixBlocks: number, scratch: Uint8Array): void {
  let offset = 0;
  for (; offset + 64 <= data.length; offset += 64) compress(state, data, offset);
  const rest = data.length - offset;
  const tail = rest < 56 ? 64 : 128;
  scratch.fill(0, 0, tail);
  scratch.set(data.subarray(offset), 0);
  scratch[rest] = 0x80;
  const bits = (prefixBlocks * 64 + data.length) * 8;
  // The length in bits, big-endian, in the last 8 bytes (messages here are far below 2^32 bits).
  scratch[tail - 4] = bits >>> 24;
  scratch[tail - 3] = bits >>> 16;
  scratch[tail - 2] = bits >>> 8;
  scratch[tail - 1] = bits;
  compress(state, scratch, 0);
  if (tail === 128) compress(state, scratch, 64);
}

/** A key made ready: the SHA-256 states after its inner and outer padded blocks. */
export class HmacSha256 {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly state = new Int32Array(8);
  private readonly scratch = new Uint8Array(128);
  private readonly digestBytes = new Uint8Array(32);

  constructor(key: Uint8Array) {
    const block = new Uint8Array(64);
    if (key.length > 64) {
      // A key longer than a block is hashed first (RFC 2104).
      const hashed = new Int32Array(IV);
      finish(hashed, key, 0, this.scratch);
      writeDigest(hashed, block);
    } else block.set(key);
    this.inner.set(IV);
    this.outer.set(IV);
    compress(this.inner, block.map((x) => x ^ 0x36), 0);
    compress(this.outer, block.map((x) => x ^ 0x5c), 0);
  }

  /** The MAC of `message` (32 bytes; the returned array is reused by the next call). */
  digest(message: Uint8Array): Uint8Array {
    this.state.set(this.inner);
    finish(this.state, message, 1, this.scratch);
    writeDigest(this.state, this.digestBytes);
    this.state.set(this.outer);
    finish(this.state, this.digestBytes, 1, this.scratch);
    writeDigest(this.state, this.digestBytes);
    // The outer pass overwrote the schedule and the first padded block; the second may still hold the message's tail.
    this.scratch.fill(0, 64);
    return this.digestBytes;
  }

  /** Whether the MAC of `message` is `expected`, comparing every byte whatever differs. */
  verify(message: Uint8Array, expected: Uint8Array): boolean {
    const mac = this.digest(message);
    if (expected.length !== mac.length) return false;
    let diff = 0;
    for (let i = 0; i < mac.length; i++) diff |= mac[i]! ^ expected[i]!;
    return diff === 0;
  }
}

/** The state's eight words, big-endian, into `out`. */
function writeDigest(state: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const w = state[i]!;
    out[i * 4] = w >>> 24;
    out[i * 4 + 1] = w >>> 16;
    out[i * 4 + 2] = w >>> 8;
    out[i * 4 + 3] = w;
  }
}
