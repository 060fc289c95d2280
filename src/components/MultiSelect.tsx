import { Box, Text } from 'ink';
import React, { useState } from 'react';
import { useList } from '../tui/useList.js';
import { PRIORITY, useActions } from '../tui/input.js';
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
  useActions(
    PRIORITY.form,
    {
      'form-toggle': () => {
        const value = options[list.selected]?.value;
        if (value === undefined) return;
        setChosen((c) => {
          const next = new Set(c);
          if (next.has(value)) next.delete(value);
          else next.add(value);
          return next;
        });
      },
      'form-submit': () => onSubmit(options.map((o) => o.value).filter((v) => chosen.has(v))),
      'form-cancel': () => onCancel(),
    },
    // The list keys (up/down/page/home/end) are the list's entries; the dialog holds the keyboard.
    { fallback: (name) => list.onKey(name) || true },
  );
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
