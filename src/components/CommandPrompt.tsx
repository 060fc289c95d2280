import { Box, Text } from 'ink';
import React from 'react';
import { PRIORITY, useActions } from '../tui/input.js';
import type { Theme } from '../tui/theme.js';
import { TextFieldView, useTextField } from './TextField.js';

/** Completes the last word of `text` against `candidates(text)`: the common prefix, or the only match. */
export function complete(text: string, candidates: (line: string) => string[]): string {
  const words = text.split(' ');
  const last = words[words.length - 1] ?? '';
  const options = candidates(text).filter((c) => c.startsWith(last));
  if (options.length === 0) return text;
  let prefix = options[0]!;
  for (const o of options) while (!o.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const done = options.length === 1 ? `${prefix} ` : prefix;
  return [...words.slice(0, -1), done].join(' ').replace(/ {2,}/g, ' ');
}

export function CommandPrompt({ candidates, onRun, onCancel, theme }: { candidates: (line: string) => string[]; onRun: (line: string) => void; onCancel: () => void; theme: Theme }) {
  const field = useTextField('');
  useActions(
    PRIORITY.prompt,
    {
      'prompt-cancel': () => onCancel(),
      'prompt-complete': () => field.set(complete(field.current(), candidates)),
      'prompt-run': () => onRun(field.current().trim()),
    },
    // The prompt holds the keyboard: everything else edits the line.
    { fallback: (name, _input, key) => field.onKey(name, key) || true },
  );
  const value = field.value;
  const options = candidates(value).filter((c) => c.startsWith(value.split(' ').pop() ?? ''));
  return (
    <Box flexDirection="column">
      <Box>
        <Text color={theme.accent} bold>:</Text>
        <TextFieldView state={field.state} />
      </Box>
      <Text dimColor={theme.dim} wrap="truncate">
        {options.length ? options.slice(0, 12).join('  ') : 'no match'}
      </Text>
    </Box>
  );
}
