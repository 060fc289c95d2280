import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { defaults, type DaemonConfig } from '../../src/daemon/config.js';
import { loadServerKey } from '../../src/daemon/crypto.js';
import { buildDaemon } from '../../src/daemon/server.js';
import { Store } from '../../src/daemon/store/index.js';

/**
 * The daemon built in this process, for requests that need a peer address a test cannot open a
 * socket from (fastify's inject sets remoteAddress). Everything else goes over a real socket.
 */
export async function inProcessDaemon(patch: (c: DaemonConfig) => void = () => {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'runed-inject-'));
  const config = defaults();
  config.dataDir = dataDir;
  patch(config);
  let logs = '';
  const logStream = new Writable({ write: (chunk, _enc, cb) => ((logs += chunk.toString()), cb()) });
  const store = await Store.open(dataDir);
  const daemon = await buildDaemon(config, store, loadServerKey(dataDir), { logStream });
  return {
    ...daemon,
    get logs() {
      return logs;
    },
    async inject(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, opts: { remoteAddress?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const res = await daemon.app.inject({
        method,
        url,
        headers,
        remoteAddress: opts.remoteAddress ?? '127.0.0.1',
        ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
    },
    async close() {
      await daemon.app.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
