import { Box, Text, useStdout } from 'ink';
import { SecretFileError, writeSecretFile } from '../config/secretFile.js';
import React, { useState } from 'react';
import { PRIORITY, useActions } from '../tui/input.js';
import { osc52 } from '../tui/osc52.js';
import type { Theme } from '../tui/theme.js';
import { TextFieldView, useTextField } from './TextField.js';

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
  try {
    return writeSecretFile(path, secret);
  } catch (e) {
    throw new Error(e instanceof SecretFileError && e.exists ? `${e.path} already exists: choose another name` : (e as Error).message);
  }
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
  // Only a saved file counts as kept: an OSC 52 copy may never arrive, so leaving after one still asks.
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const path = useTextField('');
  const [message, setMessage] = useState<{ text: string; error?: boolean } | undefined>();

  const save = (value: string) => {
    try {
      const full = writeSecret(value.trim() || suggestedFile, secret);
      setSaved(true);
      setMessage({ text: `Written to ${full} (mode 0600).` });
      setMode('view');
    } catch (e) {
      setMessage({ text: (e as Error).message, error: true });
    }
  };

  useActions(
    PRIORITY.modal,
    mode === 'save'
      ? { 'secret-write': () => save(path.current()), 'form-cancel': () => setMode('view') }
      : mode === 'leave'
        ? { 'secret-leave': () => onDone(), 'secret-stay': () => setMode('view') }
        : {
            'secret-reveal': () => setRevealed((r) => !r),
            'secret-copy': () => {
              stdout.write(osc52(secret));
              setCopied(true);
              setMessage({ text: 'Sent to the terminal clipboard (OSC 52): paste it somewhere to check it arrived. If it did not, write it to a file (w).' });
            },
            'secret-save': () => {
              // Each save starts from the suggested name, not from what was typed last time.
              path.set('');
              setMessage(undefined);
              setMode('save');
            },
            'secret-done': () => (saved ? onDone() : setMode('leave')),
          },
    // The dialog holds the keyboard; while saving, the rest edits the file name.
    { fallback: (name, _input, key) => (mode === 'save' ? path.onKey(name, key) : false) || true },
  );

  return (
    <Box flexDirection="column">
      <Box flexDirection="column" borderStyle="round" borderColor={theme.warn} paddingX={1}>
        <Text bold>{title}</Text>
        <Text>This secret is shown once. It is not stored anywhere; copy it or save it now.</Text>
        <Box marginY={1}>
          <Text bold>{revealed ? 'Revealed below the box, on a line of its own (r hides it).' : maskSecret(secret)}</Text>
        </Box>
        {mode === 'save' ? (
          <Box flexDirection="column">
            <Box>
              <Text>Save to: </Text>
              <TextFieldView state={path.state} placeholder={suggestedFile} />
            </Box>
            <Text dimColor={theme.dim}>Enter write (0600) · Esc back</Text>
          </Box>
        ) : mode === 'leave' ? (
          <Text color={theme.danger} bold>
            {copied ? 'Did the copy arrive (paste it to check)? The secret cannot be shown again. y it arrived, leave · n stay' : 'Leave without copying or saving? The secret cannot be shown again. y leave · n stay'}
          </Text>
        ) : (
          <Text dimColor={theme.dim}>r {revealed ? 'hide' : 'reveal'} · c copy · w write to file · Enter done</Text>
        )}
        {message ? <Text color={message.error ? theme.danger : theme.ok}>{message.text}</Text> : null}
      </Box>
      {/* Outside the border: a mouse selection of the line picks up the secret and nothing else. */}
      {revealed ? (
        <Text bold color={theme.warn} wrap="wrap">
          {secret}
        </Text>
      ) : null}
    </Box>
  );
}
