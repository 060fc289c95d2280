import { Box, Text } from 'ink';
import React, { useState } from 'react';
import { PRIORITY, useActions } from '../tui/input.js';
import type { Theme } from '../tui/theme.js';
import { ErrorLine } from './Chrome.js';
import { textActionFor, textOf, textReducer, TextFieldView, useSyncState, type TextState } from './TextField.js';

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
  // One synchronous state (texts, cursors, focus), so each key of a read applies to what the last one left.
  const form = useSyncState(() => {
    const texts: Record<string, TextState> = {};
    for (const f of fields) texts[f.name] = textOf(initial?.[f.name] ?? (f.kind === 'choice' ? f.options[0]! : ''));
    return { texts, focus: 0 };
  });
  const valuesOf = (texts: Record<string, TextState>): Values => Object.fromEntries(Object.entries(texts).map(([k, t]) => [k, t.value]));
  const shownOf = (texts: Record<string, TextState>) => fields.filter((f) => (visible ? visible(f, valuesOf(texts)) : true));
  const values = valuesOf(form.value.texts);
  const shown = shownOf(form.value.texts);
  const focus = Math.min(form.value.focus, shown.length - 1);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const focused = () => {
    const s = form.get();
    const list = shownOf(s.texts);
    return { list, field: list[Math.min(s.focus, list.length - 1)]! };
  };
  const setText = (name: string, next: (t: TextState) => TextState) => form.set((s) => ({ ...s, texts: { ...s.texts, [name]: next(s.texts[name]!) } }));
  const moveFocus = (by: number) =>
    form.set((s) => {
      const n = shownOf(s.texts).length;
      return { ...s, focus: (Math.min(s.focus, n - 1) + by + n) % n };
    });
  const cycleChoice = (by: number) => {
    const { field } = focused();
    if (field.kind !== 'choice') return false;
    setText(field.name, (t) => {
      const i = field.options.indexOf(t.value);
      return textOf(field.options[(i + by + field.options.length) % field.options.length]!);
    });
  };

  const submit = async () => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const problem = await onSubmit(valuesOf(form.get().texts));
      if (problem) setError(problem);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  useActions(
    PRIORITY.form,
    {
      'form-cancel': () => onCancel(),
      'form-next': () => moveFocus(1),
      'form-prev': () => moveFocus(-1),
      'form-choose': (key) => cycleChoice(key.name === 'left' ? -1 : 1),
      'form-toggle': () => cycleChoice(1),
      'form-submit': () => void submit(),
    },
    {
      // Everything else belongs to the focused text field.
      fallback: (name, _input, key) => {
        const { field } = focused();
        const action = field.kind === 'choice' ? undefined : textActionFor(name, key);
        if (!action) return true;
        setText(field.name, (t) => textReducer(t, action));
        return 'text';
      },
    },
  );

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
              <TextFieldView state={form.value.texts[f.name]!} focused={active} mask={f.kind === 'secret' ? '•' : undefined} placeholder={f.placeholder} />
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
