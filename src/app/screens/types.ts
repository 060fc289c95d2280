import type { ContextStore } from '../../config/contexts.js';
import type { Whoami } from '../../core/wire.js';
import type { Scope } from '../../tui/keymap.js';
import type { Connection } from '../state/session.js';
import type { Theme } from '../../tui/theme.js';

export type ScreenId = 'contexts' | 'users' | 'tokens' | 'policies' | 'services' | 'registries' | 'audit' | 'can-i';

export interface ScreenProps {
  conn: Connection;
  store: ContextStore;
  whoami: Whoami | undefined;
  theme: Theme;
  width: number;
  /** Rows available to the screen's body. */
  height: number;
  readOnly: boolean;
  production: boolean;
  /** Bumped by ctrl-r: screens reload when it changes. */
  refresh: number;
  /** Which keymap scopes are in play, for the footer and help. */
  setScopes: (scopes: Scope[]) => void;
  navigate: (screen: ScreenId, params?: { subject?: string }) => void;
  switchContext: (name: string) => void;
  /** A one-line message in the shell's status row (e.g. "read-only context"). */
  notify: (text: string) => void;
  params?: { subject?: string } | undefined;
  /** The last valid policy draft of the editor, for the Can-I what-if. */
  draft: string | undefined;
  setDraft: (text: string) => void;
  /** The last Can-I question, kept while the user visits other screens. */
  canIQuery: Record<string, string> | undefined;
  setCanIQuery: (query: Record<string, string>) => void;
}
