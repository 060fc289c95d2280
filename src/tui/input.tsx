import { useInput } from 'ink';
import React, { createContext, useContext, useEffect, useRef } from 'react';
import { keyName, type KeyEvent } from './keymap.js';

/** A key handler: returns true when it consumed the key, so lower layers never see it. */
export type KeyHandler = (name: string, input: string, key: KeyEvent) => boolean | void;

interface Layer {
  priority: number;
  order: number;
  handler: { current: KeyHandler };
}

/** Priorities of the layers that can hold the keyboard, highest first. */
export const PRIORITY = { modal: 100, prompt: 90, form: 50, screen: 10, global: 0 } as const;

const Dispatch = createContext<{ add(layer: Layer): () => void } | null>(null);

/**
 * The one keypress dispatcher: a single useInput, and layers (modal > prompt > form > screen >
 * global) registered by the components that are active. The highest layer that consumes a key wins.
 */
export function InputProvider({ children, active = true }: { children: React.ReactNode; active?: boolean }) {
  const layers = useRef<Layer[]>([]);
  const counter = useRef(0);
  useInput(
    (input, key) => {
      const name = keyName(input, key as unknown as KeyEvent);
      const ordered = [...layers.current].sort((a, b) => b.priority - a.priority || b.order - a.order);
      for (const layer of ordered) if (layer.handler.current(name, input, key as unknown as KeyEvent)) return;
    },
    { isActive: active },
  );
  const api = useRef({
    add(layer: Layer) {
      layer.order = counter.current++;
      layers.current.push(layer);
      return () => {
        layers.current = layers.current.filter((l) => l !== layer);
      };
    },
  });
  return <Dispatch.Provider value={api.current}>{children}</Dispatch.Provider>;
}

/** Registers a key layer while `active`; the latest handler is always used. */
export function useKeys(priority: number, handler: KeyHandler, active = true): void {
  const dispatch = useContext(Dispatch);
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!dispatch || !active) return;
    return dispatch.add({ priority, order: 0, handler: ref });
  }, [dispatch, priority, active]);
}
