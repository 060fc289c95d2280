import { Text } from 'ink';
import React, { useRef, useState } from 'react';
import type { Keypress } from '../tui/keys.js';
import type { KeyResult } from '../tui/input.js';

/** A one-line text field's state: the value and the cursor (0 … value.length). */
export interface TextState {
  value: string;
  cursor: number;
}

export type TextAction =
  | { type: 'insert'; text: string }
  | { type: 'backspace' }
  | { type: 'delete' }
  | { type: 'left' }
  | { type: 'right' }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'kill-start' }
  | { type: 'kill-end' }
  | { type: 'kill-word' }
  | { type: 'set'; value: string };

export const textOf = (value = ''): TextState => ({ value, cursor: value.length });

/** The field's edits, pure: every key applies to the state the previous key left. */
export function textReducer(s: TextState, a: TextAction): TextState {
  const { value, cursor } = s;
  switch (a.type) {
    case 'insert': {
      // A one-line field: pasted line breaks become spaces, a trailing one is dropped; no control bytes.
      const text = a.text.replace(/[\r\n]+$/, '').replace(/\r\n?|\n/g, ' ').replace(/\t/g, ' ').replace(/[\x00-\x1f\x7f]/g, '');
      if (!text) return s;
      return { value: value.slice(0, cursor) + text + value.slice(cursor), cursor: cursor + text.length };
    }
    case 'backspace':
      return cursor === 0 ? s : { value: value.slice(0, cursor - 1) + value.slice(cursor), cursor: cursor - 1 };
    case 'delete':
      return cursor >= value.length ? s : { value: value.slice(0, cursor) + value.slice(cursor + 1), cursor };
    case 'left':
      return { value, cursor: Math.max(0, cursor - 1) };
    case 'right':
      return { value, cursor: Math.min(value.length, cursor + 1) };
    case 'home':
      return { value, cursor: 0 };
    case 'end':
      return { value, cursor: value.length };
    case 'kill-start':
      return { value: value.slice(cursor), cursor: 0 };
    case 'kill-end':
      return { value: value.slice(0, cursor), cursor };
    case 'kill-word': {
      const start = value.slice(0, cursor).replace(/\S*\s*$/, '').length;
      return { value: value.slice(0, start) + value.slice(cursor), cursor: start };
    }
    case 'set':
      return textOf(a.value);
  }
}

/** What a key does to a text field, or undefined when it is not a text-field key. */
export function textActionFor(name: string, key: Pick<Keypress, 'text' | 'ctrl' | 'meta' | 'paste'>): TextAction | undefined {
  if (key.paste) return { type: 'insert', text: key.text };
  switch (name) {
    case 'backspace':
      return { type: 'backspace' };
    case 'delete':
    case 'ctrl-d':
      return { type: 'delete' };
    case 'left':
      return { type: 'left' };
    case 'right':
      return { type: 'right' };
    case 'home':
    case 'ctrl-a':
      return { type: 'home' };
    case 'end':
    case 'ctrl-e':
      return { type: 'end' };
    case 'ctrl-u':
      return { type: 'kill-start' };
    case 'ctrl-k':
      return { type: 'kill-end' };
    case 'ctrl-w':
      return { type: 'kill-word' };
  }
  if (key.text && !key.ctrl && !key.meta) return { type: 'insert', text: key.text };
  return undefined;
}

/**
 * State kept in a ref and rendered on change: handlers read and update it synchronously, so keys
 * that arrive together apply one after another even before React renders.
 */
export function useSyncState<T>(init: () => T): { get: () => T; set: (next: T | ((old: T) => T)) => void; value: T } {
  const ref = useRef<T | undefined>(undefined);
  if (ref.current === undefined) ref.current = init();
  const [, rerender] = useState(0);
  const set = (next: T | ((old: T) => T)) => {
    const value = typeof next === 'function' ? (next as (old: T) => T)(ref.current as T) : next;
    if (value === ref.current) return;
    ref.current = value;
    rerender((n) => n + 1);
  };
  return { get: () => ref.current as T, set, value: ref.current };
}

/** One text field on the key stream: `onKey` edits it (returning 'text') or leaves the key alone. */
export function useTextField(initial = '') {
  const state = useSyncState(() => textOf(initial));
  return {
    state: state.value,
    value: state.value.value,
    /** The value as of the last key (not the last render). */
    current: () => state.get().value,
    set: (value: string) => state.set(textOf(value)),
    onKey: (name: string, key: Pick<Keypress, 'text' | 'ctrl' | 'meta' | 'paste'>): KeyResult => {
      const action = textActionFor(name, key);
      if (!action) return false;
      state.set((s) => textReducer(s, action));
      return 'text';
    },
  };
}

/** A masked value longer than this shows as this many dots and its length. */
export const MASK_CELLS = 12;

/** Draws a field: the cursor as an inverse cell, masked characters for secrets, a dim placeholder. */
export function TextFieldView({ state, focused = true, mask, placeholder }: { state: TextState; focused?: boolean; mask?: string | undefined; placeholder?: string | undefined }) {
  if (mask && state.value.length > MASK_CELLS) {
    // A long secret (a pasted token) would wrap its row: a fixed run of dots and its length instead.
    return (
      <Text>
        {mask.repeat(MASK_CELLS)}
        <Text dimColor>{` (${state.value.length} chars)`}</Text>
        {focused && state.cursor >= state.value.length ? <Text inverse> </Text> : null}
      </Text>
    );
  }
  const shown = mask ? mask.repeat(state.value.length) : state.value;
  if (!shown && placeholder) {
    return focused ? (
      <Text>
        <Text inverse>{placeholder[0]}</Text>
        <Text dimColor>{placeholder.slice(1)}</Text>
      </Text>
    ) : (
      <Text dimColor>{placeholder}</Text>
    );
  }
  if (!focused) return <Text>{shown}</Text>;
  return (
    <Text>
      {shown.slice(0, state.cursor)}
      <Text inverse>{shown[state.cursor] ?? ' '}</Text>
      {shown.slice(state.cursor + 1)}
    </Text>
  );
}
