import { useCallback, useReducer } from 'react';
import { matches } from './keymap.js';

export interface ListState {
  selected: number;
  offset: number;
}

type Move = { type: 'move'; to: (s: ListState) => number; count: number; height: number } | { type: 'reset' };

function clampWindow(selected: number, offset: number, count: number, height: number): ListState {
  const sel = Math.max(0, Math.min(selected, count - 1));
  let off = offset;
  if (sel < off) off = sel;
  if (sel >= off + height) off = sel - height + 1;
  off = Math.max(0, Math.min(off, Math.max(0, count - height)));
  return { selected: Math.max(0, sel), offset: off };
}

function reducer(state: ListState, action: Move): ListState {
  if (action.type === 'reset') return { selected: 0, offset: 0 };
  const current = clampWindow(state.selected, state.offset, action.count, action.height);
  return clampWindow(action.to(current), current.offset, action.count, action.height);
}

/** Selection and scroll window of a list, and its keys (up/down/page/home/end). */
export function useList(count: number, height: number, initial: ListState = { selected: 0, offset: 0 }) {
  const [raw, dispatch] = useReducer(reducer, initial);
  // The count or height may have changed since the last move: keep the window valid.
  const state = clampWindow(raw.selected, raw.offset, count, height);
  const move = (to: (s: ListState) => number) => dispatch({ type: 'move', to, count, height });
  const onKey = useCallback(
    (name: string): boolean => {
      if (count === 0) return false;
      if (matches('up', name)) move((s) => s.selected - 1);
      else if (matches('down', name)) move((s) => s.selected + 1);
      else if (matches('page-up', name)) move((s) => s.selected - height);
      else if (matches('page-down', name)) move((s) => s.selected + height);
      else if (matches('top', name)) move(() => 0);
      else if (matches('bottom', name)) move(() => count - 1);
      else return false;
      return true;
    },
    [count, height],
  );
  return { ...state, onKey, reset: () => dispatch({ type: 'reset' }) };
}
