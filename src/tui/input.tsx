import { useStdin } from 'ink';
import React, { createContext, useContext, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { ESC_TIMEOUT_MS, KeySplitter, PASTE_TIMEOUT_MS, type Keypress } from './keys.js';
import { KEYMAP, READ_ONLY_REFUSAL, type Binding } from './keymap.js';

/**
 * A key handler: true when it consumed the key, so lower layers never see it; 'text' when it
 * consumed it as an edit of its own text (the layers stay as they are, so the next key of the
 * same read can follow without waiting for a render).
 */
export type KeyResult = boolean | 'text' | void;
export type KeyHandler = (name: string, input: string, key: Keypress) => KeyResult;

/** Keys that only edit text: printable characters, a paste, Backspace, Delete. */
const isPlain = (key: Keypress) => key.paste || (key.text !== '' && !key.ctrl && !key.meta) || key.name === 'backspace' || key.name === 'delete';

interface Layer {
  priority: number;
  order: number;
  handler: { current: KeyHandler };
}

/** Priorities of the layers that can hold the keyboard, highest first. */
export const PRIORITY = { interrupt: 200, modal: 100, prompt: 90, form: 50, screen: 10, global: 0 } as const;

interface DispatchApi {
  add(layer: Layer): () => void;
}
const Dispatch = createContext<DispatchApi | null>(null);

/**
 * The one keypress stream: every chunk Ink reads from stdin goes through a KeySplitter, and the
 * keys come out one at a time to the layers (modal > prompt > form > screen > global). After a key
 * that may have changed what is on screen, the next one waits for React to commit, so a key that
 * opens an input (":", "/", "n") sends the keys after it, from the same read, into that input.
 */
export function InputProvider({ children, active = true }: { children: React.ReactNode; active?: boolean }) {
  const { stdin, setRawMode, internal_eventEmitter: events } = useStdin();
  const layers = useRef<Layer[]>([]);
  const counter = useRef(0);
  const [commits, setCommits] = useState(0);
  const onCommit = useRef<(() => void) | undefined>(undefined);
  const alive = useRef(true);

  // Runs after every commit this provider takes part in: the keys waiting on it may go on.
  useLayoutEffect(() => {
    const resume = onCommit.current;
    onCommit.current = undefined;
    resume?.();
  }, [commits]);
  useEffect(
    () => () => {
      alive.current = false;
      onCommit.current?.();
    },
    [],
  );

  const dispatchOne = (key: Keypress): KeyResult => {
    const ordered = [...layers.current].sort((a, b) => b.priority - a.priority || b.order - a.order);
    for (const layer of ordered) {
      const result = layer.handler.current(key.name, key.text, key);
      if (result) return result;
    }
    return false;
  };

  // The queue is drained by one loop at a time; keys keep their order across reads.
  const queue = useRef<Keypress[]>([]);
  const draining = useRef(false);
  // Kept across reads: the next read can come before React has rendered the last key.
  const uncommitted = useRef(false);
  const last = useRef<KeyResult>(false);
  const drain = async () => {
    if (draining.current) return;
    draining.current = true;
    try {
      while (queue.current.length > 0 && alive.current) {
        const key = queue.current[0]!;
        // Plain keys after a text edit go straight on; any other key first waits for the last one's commit.
        if (uncommitted.current && !(last.current === 'text' && isPlain(key))) {
          // One more update in the same batch as the handlers': its commit means theirs is done.
          await new Promise<void>((resolve) => {
            onCommit.current = resolve;
            setCommits((c) => c + 1);
          });
          if (!alive.current) break;
          uncommitted.current = false;
        }
        queue.current.shift();
        last.current = dispatchOne(key);
        uncommitted.current = true;
      }
    } finally {
      draining.current = false;
    }
  };

  useEffect(() => {
    if (!active || !events) return;
    const splitter = new KeySplitter();
    let timer: NodeJS.Timeout | undefined;
    const deliver = (keys: Keypress[]) => {
      if (keys.length === 0) return;
      queue.current.push(...keys);
      void drain();
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = splitter.waiting
        ? setTimeout(() => {
            timer = undefined;
            deliver(splitter.flush());
            arm();
          }, ESC_TIMEOUT_MS)
        : splitter.inPaste
          ? setTimeout(() => {
              timer = undefined;
              deliver(splitter.endPaste());
            }, PASTE_TIMEOUT_MS)
          : undefined;
    };
    const onInput = (data: string | Buffer) => {
      deliver(splitter.push(typeof data === 'string' ? data : data.toString('utf8')));
      arm();
    };
    setRawMode(true);
    events.on('input', onInput);
    return () => {
      if (timer) clearTimeout(timer);
      events.removeListener('input', onInput);
      setRawMode(false);
    };
  }, [active, events, stdin, setRawMode]);

  const api = useRef<DispatchApi>({
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

/**
 * Registers a key layer while `active`; the latest handler is always used. Registration happens
 * in the commit itself (a layout effect), so the next key of a read already finds the new layer.
 */
export function useKeys(priority: number, handler: KeyHandler, active = true): void {
  const dispatch = useContext(Dispatch);
  const ref = useRef(handler);
  ref.current = handler;
  useLayoutEffect(() => {
    if (!dispatch || !active) return;
    return dispatch.add({ priority, order: 0, handler: ref });
  }, [dispatch, priority, active]);
}

/** A keymap entry's handler; false passes the key on (e.g. nothing is selected). */
export type Action = (key: Keypress) => KeyResult;

const KNOWN = new Set(KEYMAP.map((b) => b.id));
const types = (key: Keypress) => key.text !== '' && !key.ctrl && !key.meta && !key.paste;

/**
 * The keymap's handlers for one component (k9s's action map): each key resolves to the keymap
 * entry it belongs to and runs that entry's handler. In read-only mode the mutating entries are
 * not there: their keys are consumed and answered with "read-only context".
 */
export function useActions(
  priority: number,
  actions: Partial<Record<string, Action>>,
  opts: { active?: boolean; readOnly?: boolean; onRefused?: (message: string, binding: Binding) => void; fallback?: KeyHandler } = {},
): void {
  // A handler for an entry the keymap does not have would never run, and help would not list it.
  for (const id of Object.keys(actions)) if (!KNOWN.has(id)) throw new Error(`no binding "${id}" in the keymap`);
  useKeys(
    priority,
    (name, input, key) => {
      for (const b of KEYMAP) {
        const action = actions[b.id];
        if (!action || !(b.keys.includes(name) || (b.keys.includes('text') && types(key)))) continue;
        if (opts.readOnly && b.mutating) {
          opts.onRefused?.(`${READ_ONLY_REFUSAL}: ${b.description.split(' (')[0]} is not available`, b);
          return true;
        }
        const result = action(key);
        if (result === false) continue;
        return result ?? true;
      }
      return opts.fallback ? opts.fallback(name, input, key) : false;
    },
    opts.active ?? true,
  );
}

/** Has the keymap an entry `id` (used to check handler tables against the keymap in tests)? */
export const bindingFor = (id: string): Binding | undefined => KEYMAP.find((b) => b.id === id);
