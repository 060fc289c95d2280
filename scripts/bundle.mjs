#!/usr/bin/env node
// Bundles the rune CLI/TUI (dist/cli/main.js and what it imports) into dist/rune/: a few files
// instead of hundreds of modules, so a command starts in a fraction of the time. Lazy imports
// (the API client, conf, yaml, Ink and React) stay separate chunks, loaded only by the commands that use them.
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'dist/cli/main.js' },
  outdir: 'dist/rune',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
  // Optional at run time (ink's devtools), and native (never part of the CLI).
  external: ['react-devtools-core', 'better-sqlite3'],
  define: { 'process.env.DEV': '"false"' },
  banner: { js: "import { createRequire as __runeRequire } from 'node:module'; const require = __runeRequire(import.meta.url);" },
});
writeFileSync(`${root}/dist/rune/meta.json`, JSON.stringify(result.metafile));
