import { useUIActions, useUIState, useSession, type ListMemory, type ScreenId, type ScreenParams } from '../state/uiState.js';

export type { ScreenId, ScreenParams };

/**
 * What a screen works with: the session (connection, theme, size), the shell's state it reads
 * (its place's params, the refresh count, the draft and the Can-I question) and the shell's
 * actions. Screens take no props; each uses what it needs from here.
 */
export function useScreen() {
  const session = useSession();
  const ui = useUIState();
  const actions = useUIActions();
  const here = ui.stack[ui.stack.length - 1]!;
  return {
    ...session,
    refresh: ui.refresh,
    params: here.params,
    draft: ui.draft,
    canIQuery: ui.canIQuery,
    setScopes: actions.setScopes,
    navigate: actions.navigate,
    notify: actions.notify,
    setDraft: actions.setDraft,
    setCanIQuery: actions.setCanIQuery,
    /** Another context (none: the Contexts screen, nothing selected). */
    switchContext: (name: string | undefined) => {
      actions.switchContext(name, name ? undefined : 'contexts');
      if (name) actions.notify(`switched to context ${name}`);
    },
    /** The list state this screen (and subject) left last time, and where to leave it. */
    memory: (screen: ScreenId): { initial: ListMemory | undefined; save: (m: ListMemory) => void } => {
      const key = `${screen}:${here.params?.subject ?? ''}`;
      return { initial: ui.memory[key], save: (m) => actions.remember(key, m) };
    },
  };
}
