import { Box, Text } from 'ink';
import TextInput from 'ink-text-input';
import React, { useState } from 'react';
import { matches } from '../tui/keymap.js';
import { PRIORITY, useKeys } from '../tui/input.js';
import type { Theme } from '../tui/theme.js';

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
  const [value, setValue] = useState('');
  // Remounting the input after a completion puts its cursor at the end of the new text.
  const [generation, setGeneration] = useState(0);
  useKeys(PRIORITY.prompt, (name) => {
    if (matches('prompt-cancel', name)) onCancel();
    else if (matches('prompt-complete', name)) {
      setValue((v) => complete(v, candidates));
      setGeneration((g) => g + 1);
    }
    return true;
  });
  const line = value.trim();
  const options = candidates(value).filter((c) => c.startsWith(value.split(' ').pop() ?? ''));
  return (
    <Box flexDirection="column">
      <Box>
        <Text color={theme.accent} bold>:</Text>
        <TextInput key={generation} value={value} onChange={setValue} onSubmit={() => onRun(line)} focus />
      </Box>
      <Text dimColor={theme.dim} wrap="truncate">
        {options.length ? options.slice(0, 12).join('  ') : 'no match'}
      </Text>
    </Box>
  );
}
