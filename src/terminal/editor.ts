import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** $VISUAL, then $EDITOR, then vi — as kubectl edit and git do. */
export function editorCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.VISUAL || env.EDITOR || 'vi';
}

/**
 * Opens `text` in the user's editor (inherited terminal) and returns what was saved. The file is
 * private (0600 in a fresh 0700 directory) and removed afterwards.
 */
export function editInEditor(text: string, fileName: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = mkdtempSync(join(tmpdir(), 'rune-edit-'));
  const file = join(dir, fileName);
  try {
    writeFileSync(file, text, { mode: 0o600 });
    const editor = editorCommand(env);
    // The editor setting may carry arguments ("code --wait"), so it goes through the shell.
    const result = spawnSync(`${editor} "${file}"`, { shell: true, stdio: 'inherit', env });
    if (result.error) throw new Error(`cannot start the editor "${editor}": ${result.error.message}`);
    if (result.status !== 0) throw new Error(`the editor "${editor}" exited with status ${result.status}; nothing was changed`);
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
