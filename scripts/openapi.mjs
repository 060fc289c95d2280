// Writes docs/openapi.json from the routes' schemas (npm run openapi); a test keeps it current.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaults } from '../dist/daemon/config.js';
import { loadServerKey } from '../dist/daemon/crypto.js';
import { buildDaemon } from '../dist/daemon/server.js';
import { Store } from '../dist/daemon/store/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'runed-openapi-'));
const config = { ...defaults(), dataDir, log: { level: 'silent' } };
const store = await Store.open(dataDir);
const { app } = await buildDaemon(config, store, loadServerKey(dataDir));
await app.ready();
writeFileSync(new URL('../docs/openapi.json', import.meta.url), JSON.stringify(app.swagger(), null, 2) + '\n');
await app.close();
await store.close();
rmSync(dataDir, { recursive: true, force: true });
