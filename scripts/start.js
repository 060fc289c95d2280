#!/usr/bin/env node
// `npm start`: a local runed (started in the background if none answers), bootstrapped once,
// the context "local", then the TUI. Running it again reuses the daemon and the context.
import { quickstart } from '../dist/cli/quickstart.js';

quickstart().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`rune: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
