import React, { createContext, useContext, useMemo, useReducer } from 'react';
import type { Whoami } from '../../core/wire.js';
import type { ContextStore } from '../../config/contexts.js';
import type { ListMemory } from '../../hooks/useTableView.js';
import type { Scope } from '../../tui/keymap.js';
import type { Theme } from '../../tui/theme.js';
import type { Connection } from './session.js';

export type ScreenId = 'contexts' | 'users' | 'tokens' | 'policies' | 'services' | 'registries' | 'audit' | 'can-i';

export interface ScreenParams {
  subject?: string;
}

/** One place in the navigation stack (k9s-like: Esc goes back to where you came from). */
export interface Place {
  screen: ScreenId;
  params?: ScreenParams | undefined;
}

export type { ListMemory };

export interface Notice {
  text: string;
  error: boolean;
  /** Bumps for every notice, so the same text twice still restarts its fade. */
  id: number;
}

export type Health = { state: 'unknown' } | { state: 'up' } | { state: 'down'; message: string };

export interface UIState {
  contextName: string | undefined;
  /** The navigation stack; the last place is on screen. */
  stack: Place[];
  mode: 'normal' | 'help' | 'prompt';
  scopes: Scope[];
  /** Bumped by ctrl-r and on reconnection: screens reload, keeping their place. */
  refresh: number;
  notice: Notice | undefined;
  /** The last valid policy draft of the editor, for the Can-I what-if. */
  draft: string | undefined;
  /** The last Can-I question, kept while the operator visits other screens. */
  canIQuery: Record<string, string> | undefined;
  /** Per screen (and subject), for the session: filter, sort, selection and scroll. */
  memory: Record<string, ListMemory>;
  health: Health;
}

export type UIAction =
  | { type: 'go'; place: Place; push: boolean }
  | { type: 'back' }
  | { type: 'mode'; mode: UIState['mode'] }
  | { type: 'scopes'; scopes: Scope[] }
  | { type: 'refresh' }
  | { type: 'notify'; text: string; error: boolean }
  | { type: 'clear-notice'; id?: number }
  | { type: 'draft'; text: string }
  | { type: 'can-i'; query: Record<string, string> }
  | { type: 'remember'; key: string; memory: ListMemory }
  | { type: 'context'; name: string | undefined; screen?: ScreenId }
  | { type: 'health'; health: Health; server?: string };

const sameScopes = (a: Scope[], b: Scope[]) => a.length === b.length && a.every((s, i) => s === b[i]);
const MAX_DEPTH = 20;

export function initialState(contextName: string | undefined, screen: ScreenId): UIState {
  return { contextName, stack: [{ screen }], mode: 'normal', scopes: ['global', 'list'], refresh: 0, notice: undefined, draft: undefined, canIQuery: undefined, memory: {}, health: { state: 'unknown' } };
}

/** The shell's state, pure: every cross-screen change goes through here. */
export function uiReducer(s: UIState, a: UIAction): UIState {
  switch (a.type) {
    case 'go': {
      const here = s.stack[s.stack.length - 1]!;
      if (here.screen === a.place.screen && here.params?.subject === a.place.params?.subject) return { ...s, mode: 'normal' };
      // A drill-down (Enter on a user) pushes; switching screens (1-8, Tab, :cmd) starts a new trail.
      const stack = a.push ? [...s.stack, a.place].slice(-MAX_DEPTH) : [a.place];
      return { ...s, stack, mode: 'normal' };
    }
    case 'back':
      return s.stack.length > 1 ? { ...s, stack: s.stack.slice(0, -1), mode: 'normal' } : s;
    case 'mode':
      return s.mode === a.mode ? s : { ...s, mode: a.mode };
    case 'scopes':
      return sameScopes(s.scopes, a.scopes) ? s : { ...s, scopes: a.scopes };
    case 'refresh':
      return { ...s, refresh: s.refresh + 1 };
    case 'notify':
      return { ...s, notice: { text: a.text, error: a.error, id: (s.notice?.id ?? 0) + 1 } };
    case 'clear-notice':
      return s.notice && (a.id === undefined || a.id === s.notice.id) ? { ...s, notice: undefined } : s;
    case 'draft':
      return { ...s, draft: a.text };
    case 'can-i':
      return { ...s, canIQuery: a.query };
    case 'remember':
      return { ...s, memory: { ...s.memory, [a.key]: a.memory } };
    case 'context':
      // Another daemon: the remembered rows and places belong to the old one.
      return { ...s, contextName: a.name, memory: {}, stack: [{ screen: a.screen ?? s.stack[s.stack.length - 1]!.screen }], refresh: s.refresh + 1, health: { state: 'unknown' } };
    case 'health': {
      const before = s.health.state;
      if (before === a.health.state && (a.health.state !== 'down' || (s.health as { message: string }).message === a.health.message)) return s;
      const next = { ...s, health: a.health };
      const where = a.server ? ` to ${a.server}` : '';
      if (a.health.state === 'down' && before !== 'down') return { ...next, notice: { text: `connection${where} lost: ${a.health.message}`, error: true, id: (s.notice?.id ?? 0) + 1 } };
      // Back: say so, and reload every list so the error lines of the outage go away.
      if (a.health.state === 'up' && before === 'down') return { ...next, refresh: s.refresh + 1, notice: { text: `connection${where} is back`, error: false, id: (s.notice?.id ?? 0) + 1 } };
      return next;
    }
  }
}

/** The session every screen works in: who, where, how it looks. */
export interface Session {
  conn: Connection;
  store: ContextStore;
  whoami: Whoami | undefined;
  theme: Theme;
  readOnly: boolean;
  production: boolean;
  /** The body's size in cells. */
  width: number;
  height: number;
}

export interface UIActions {
  /** Switch to a screen (a new trail); `push` drills down (Esc comes back here). */
  navigate: (screen: ScreenId, params?: ScreenParams, push?: boolean) => void;
  back: () => boolean;
  setMode: (mode: UIState['mode']) => void;
  setScopes: (scopes: Scope[]) => void;
  refresh: () => void;
  /** A one-line message in the shell's status row; it fades after a few seconds or on the next action. */
  notify: (text: string, error?: boolean) => void;
  clearNotice: (id?: number) => void;
  setDraft: (text: string) => void;
  setCanIQuery: (query: Record<string, string>) => void;
  remember: (key: string, memory: ListMemory) => void;
  switchContext: (name: string | undefined, screen?: ScreenId) => void;
  setHealth: (health: Health, server?: string) => void;
}

const UIStateContext = createContext<UIState | null>(null);
const UIActionsContext = createContext<UIActions | null>(null);
const SessionContext = createContext<Session | null>(null);

export function useUIState(): UIState {
  const s = useContext(UIStateContext);
  if (!s) throw new Error('useUIState outside UIStateProvider');
  return s;
}

export function useUIActions(): UIActions {
  const a = useContext(UIActionsContext);
  if (!a) throw new Error('useUIActions outside UIStateProvider');
  return a;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The reducer and its actions (stable: callers of actions alone never re-render for state changes). */
export function useUIStore(init: () => UIState): { state: UIState; actions: UIActions } {
  const [state, dispatch] = useReducer(uiReducer, undefined, init);
  const actions = useMemo<UIActions>(
    () => ({
      navigate: (screen, params, push = false) => dispatch({ type: 'go', place: { screen, params }, push }),
      back: () => {
        dispatch({ type: 'back' });
        return true;
      },
      setMode: (mode) => dispatch({ type: 'mode', mode }),
      setScopes: (scopes) => dispatch({ type: 'scopes', scopes }),
      refresh: () => dispatch({ type: 'refresh' }),
      notify: (text, error = false) => dispatch({ type: 'notify', text, error }),
      clearNotice: (id) => dispatch(id === undefined ? { type: 'clear-notice' } : { type: 'clear-notice', id }),
      setDraft: (text) => dispatch({ type: 'draft', text }),
      setCanIQuery: (query) => dispatch({ type: 'can-i', query }),
      remember: (key, memory) => dispatch({ type: 'remember', key, memory }),
      switchContext: (name, screen) => dispatch(screen ? { type: 'context', name, screen } : { type: 'context', name }),
      setHealth: (health, server) => dispatch(server ? { type: 'health', health, server } : { type: 'health', health }),
    }),
    [],
  );
  return { state, actions };
}

/** gemini-cli's split: one context for the state, one for the actions. */
export function UIStateProvider({ state, actions, children }: { state: UIState; actions: UIActions; children: React.ReactNode }) {
  return (
    <UIActionsContext.Provider value={actions}>
      <UIStateContext.Provider value={state}>{children}</UIStateContext.Provider>
    </UIActionsContext.Provider>
  );
}

export function SessionProvider({ value, children }: { value: Session; children: React.ReactNode }) {
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
