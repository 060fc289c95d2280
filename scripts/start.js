#!/usr/bin/env node
// `npm start`: runs runed in the foreground on the default data dir (~/.rune/runed) and says how
// to bootstrap it. (The TUI quickstart replaces this once the TUI exists.)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runed = fileURLToPath(new URL('../bin/runed', import.meta.url));
process.stderr.write(`Starting runed on 127.0.0.1:7863 (data in ~/.rune/runed). Stop it with Ctrl-C.
Bootstrap it once, from this host, in another terminal:
  curl -s -X POST http://127.0.0.1:7863/v1/bootstrap
Then see README.md for users, policies and tokens.

`);
const child = spawn(process.execPath, [runed, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
