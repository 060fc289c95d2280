import http from 'node:http';

/** A request sent byte for byte as written: the path is not normalised or re-encoded by a URL parser. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: string | Buffer;
}

export interface RawReply {
  status: number;
  body: string;
}

/** Sends `req` over `agent` (false: a connection of its own) to `baseUrl` with node:http, which leaves the path alone. */
export function rawRequest(baseUrl: string, agent: http.Agent | false, req: RawRequest, timeoutMs = 10_000): Promise<RawReply> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: base.hostname, port: base.port, method: req.method, path: req.path, headers: req.headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    // node:http frames a GET/HEAD/DELETE body with nothing unless told its length: say it always.
    if (req.body !== undefined && !Object.keys(req.headers).some((h) => h.toLowerCase() === 'content-length')) {
      r.setHeader('content-length', Buffer.byteLength(req.body));
    }
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Percent-encodes every byte of the UTF-8 form of `text` except unreserved characters. */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
