import { Box, Text } from 'ink';
import TextInput from 'ink-text-input';
import React, { useState } from 'react';
import { matches } from '../tui/keymap.js';
import { PRIORITY, useKeys } from '../tui/input.js';
import type { Theme } from '../tui/theme.js';
import { ErrorLine } from './Chrome.js';

export type FieldSpec =
  | { name: string; label: string; kind: 'text'; placeholder?: string; hint?: string }
  | { name: string; label: string; kind: 'secret'; placeholder?: string; hint?: string }
  | { name: string; label: string; kind: 'choice'; options: string[]; hint?: string };

export type Values = Record<string, string>;

export interface FormProps {
  title: string;
  fields: FieldSpec[];
  initial?: Values;
  /** Returns an error message to show (and keep the form), or nothing when done. */
  onSubmit: (values: Values) => Promise<string | void> | string | void;
  onCancel: () => void;
  /** Extra fields shown only when a choice has a value, e.g. a custom TTL. */
  visible?: (field: FieldSpec, values: Values) => boolean;
  theme: Theme;
}

/** A small data-driven form: Tab/Shift-Tab (or arrows) move, Enter submits, Esc cancels. */
export function Form({ title, fields, initial, onSubmit, onCancel, visible, theme }: FormProps) {
  const [values, setValues] = useState<Values>(() => {
    const v: Values = {};
    for (const f of fields) v[f.name] = initial?.[f.name] ?? (f.kind === 'choice' ? f.options[0]! : '');
    return v;
  });
  const shown = fields.filter((f) => (visible ? visible(f, values) : true));
  const [focus, setFocus] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const current = shown[Math.min(focus, shown.length - 1)]!;

  const submit = async () => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const problem = await onSubmit(values);
      if (problem) setError(problem);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  useKeys(PRIORITY.form, (name) => {
    if (matches('form-cancel', name)) onCancel();
    else if (matches('form-next', name)) setFocus((i) => (i + 1) % shown.length);
    else if (matches('form-prev', name)) setFocus((i) => (i - 1 + shown.length) % shown.length);
    else if (current.kind === 'choice' && (name === 'left' || name === 'right' || name === 'space')) {
      const i = current.options.indexOf(values[current.name]!);
      const next = (i + (name === 'left' ? -1 : 1) + current.options.length) % current.options.length;
      setValues((v) => ({ ...v, [current.name]: current.options[next]! }));
    } else if (name === 'enter' && current.kind === 'choice') void submit();
    // Everything else belongs to the focused text field (ink-text-input reads it itself).
    return true;
  });

  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1}>
      <Text bold>{title}</Text>
      {shown.map((f, i) => {
        const active = i === focus;
        return (
          <Box key={f.name}>
            <Text color={active ? theme.accent : undefined} bold={active}>
              {(active ? '› ' : '  ') + f.label.padEnd(14)}
            </Text>
            {f.kind === 'choice' ? (
              <Text>
                {f.options.map((o) => (
                  <Text key={o} inverse={values[f.name] === o}>{` ${o} `}</Text>
                ))}
              </Text>
            ) : (
              <TextInput
                value={values[f.name] ?? ''}
                onChange={(v) => setValues((old) => ({ ...old, [f.name]: v }))}
                onSubmit={() => void submit()}
                focus={active}
                showCursor={active}
                {...(f.placeholder ? { placeholder: f.placeholder } : {})}
                {...(f.kind === 'secret' ? { mask: '•' } : {})}
              />
            )}
            {active && f.hint ? <Text dimColor={theme.dim}>{`  ${f.hint}`}</Text> : null}
          </Box>
        );
      })}
      {busy ? <Text dimColor={theme.dim}>working…</Text> : null}
      {error ? <ErrorLine message={error} theme={theme} /> : null}
      <Text dimColor={theme.dim}>Tab next field · Enter submit · Esc cancel</Text>
    </Box>
  );
}
