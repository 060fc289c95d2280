import { Box, Text } from 'ink';
import React, { useState } from 'react';
import { useList } from '../hooks/useList.js';
import { matches } from '../tui/keymap.js';
import { PRIORITY, useKeys } from '../tui/input.js';
import type { Theme } from '../tui/theme.js';

export interface Option {
  value: string;
  label: string;
  note?: string;
}

/** A windowed checklist: ↑/↓ move, Space toggles, Enter applies, Esc cancels. */
export function MultiSelect({ title, options, initial, height, onSubmit, onCancel, theme }: { title: string; options: Option[]; initial: string[]; height: number; onSubmit: (chosen: string[]) => void; onCancel: () => void; theme: Theme }) {
  const [chosen, setChosen] = useState(() => new Set(initial));
  const list = useList(options.length, Math.max(1, height));
  useKeys(PRIORITY.form, (name) => {
    if (list.onKey(name)) return true;
    if (matches('form-toggle', name)) {
      const value = options[list.selected]?.value;
      if (value !== undefined) {
        setChosen((c) => {
          const next = new Set(c);
          if (next.has(value)) next.delete(value);
          else next.add(value);
          return next;
        });
      }
    } else if (matches('form-submit', name)) onSubmit(options.map((o) => o.value).filter((v) => chosen.has(v)));
    else if (matches('form-cancel', name)) onCancel();
    return true;
  });
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1}>
      <Text bold>{title}</Text>
      {options.slice(list.offset, list.offset + Math.max(1, height)).map((o, i) => {
        const index = list.offset + i;
        return (
          <Text key={o.value} inverse={index === list.selected} wrap="truncate">
            {chosen.has(o.value) ? '[x] ' : '[ ] '}
            {o.label}
            {o.note ? <Text dimColor={theme.dim}>{`  ${o.note}`}</Text> : null}
          </Text>
        );
      })}
      <Text dimColor={theme.dim}>Space toggle · Enter apply · Esc cancel</Text>
    </Box>
  );
}
