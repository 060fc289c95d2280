import { Box, Text, useStdout } from 'ink';
import TextInput from 'ink-text-input';
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import React, { useState } from 'react';
import { matches } from '../tui/keymap.js';
import { PRIORITY, useKeys } from '../tui/input.js';
import { osc52 } from '../tui/osc52.js';
import type { Theme } from '../tui/theme.js';

export interface SecretRevealProps {
  title: string;
  secret: string;
  suggestedFile: string;
  /** Called when the user leaves; the caller must drop the secret from its state then. */
  onDone: () => void;
  theme: Theme;
}

/** The id part stays readable (it is public); every secret character is masked. */
export function maskSecret(secret: string): string {
  const m = /^(rune_tok_[0-9A-Za-z]+_)/.exec(secret);
  return (m ? m[1] : '') + '•'.repeat(24);
}

/** Writes `secret` to a new file, 0600, refusing to overwrite. */
export function writeSecret(path: string, secret: string): string {
  const full = resolve(path);
  let fd: number;
  try {
    fd = openSync(full, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'EEXIST' ? `${full} already exists: choose another name` : `cannot write ${full}: ${code ?? (e as Error).message}`);
  }
  try {
    writeSync(fd, secret + '\n');
  } finally {
    closeSync(fd);
  }
  return full;
}

type Mode = 'view' | 'save' | 'leave';

/**
 * The one-shot secret display: masked until revealed; copy (OSC 52) or save (0600); leaving
 * without either asks first. It is never rendered through <Static>, so it never reaches scrollback.
 */
export function SecretReveal({ title, secret, suggestedFile, onDone, theme }: SecretRevealProps) {
  const { stdout } = useStdout();
  const [revealed, setRevealed] = useState(false);
  const [mode, setMode] = useState<Mode>('view');
  const [kept, setKept] = useState<string[]>([]);
  const [path, setPath] = useState('');
  const [message, setMessage] = useState<{ text: string; error?: boolean } | undefined>();

  useKeys(PRIORITY.modal, (name) => {
    if (mode === 'save') {
      if (name === 'esc') setMode('view');
      return true;
    }
    if (mode === 'leave') {
      if (name === 'y') onDone();
      else if (name === 'n' || name === 'esc') setMode('view');
      return true;
    }
    if (matches('secret-reveal', name)) setRevealed((r) => !r);
    else if (matches('secret-copy', name)) {
      stdout.write(osc52(secret));
      setKept((k) => [...k, 'copied']);
      setMessage({ text: 'Sent to the terminal clipboard (OSC 52). If your terminal does not support it, save to a file instead.' });
    } else if (matches('secret-save', name)) setMode('save');
    else if (matches('secret-done', name)) {
      if (kept.length > 0) onDone();
      else setMode('leave');
    }
    return true;
  });

  const save = (value: string) => {
    try {
      const full = writeSecret(value.trim() || suggestedFile, secret);
      setKept((k) => [...k, 'saved']);
      setMessage({ text: `Written to ${full} (mode 0600).` });
      setMode('view');
    } catch (e) {
      setMessage({ text: (e as Error).message, error: true });
    }
  };

  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.warn} paddingX={1}>
      <Text bold>{title}</Text>
      <Text>This secret is shown once. It is not stored anywhere; copy it or save it now.</Text>
      <Box marginY={1}>
        <Text bold color={revealed ? theme.warn : undefined}>
          {revealed ? secret : maskSecret(secret)}
        </Text>
      </Box>
      {mode === 'save' ? (
        <Box>
          <Text>Save to: </Text>
          <TextInput value={path} onChange={setPath} onSubmit={save} placeholder={suggestedFile} focus />
          <Text dimColor={theme.dim}>  Enter write (0600) · Esc back</Text>
        </Box>
      ) : mode === 'leave' ? (
        <Text color={theme.danger} bold>
          Leave without copying or saving? The secret cannot be shown again. y leave · n stay
        </Text>
      ) : (
        <Text dimColor={theme.dim}>r {revealed ? 'hide' : 'reveal'} · c copy · w write to file · Enter done</Text>
      )}
      {message ? <Text color={message.error ? theme.danger : theme.ok}>{message.text}</Text> : null}
    </Box>
  );
}
