/**
 * The one keymap: every key the TUI answers to, where it applies, and what it does. The footer
 * hints and the `?` help screen are generated from this list; handlers refer to bindings by id.
 */
export type Scope = 'global' | 'list' | 'text' | 'contexts' | 'users' | 'tokens' | 'policies' | 'editor' | 'services' | 'wizard' | 'registries' | 'audit' | 'can-i' | 'secret' | 'form' | 'confirm' | 'prompt';

export interface Binding {
  id: string;
  keys: string[];
  description: string;
  scope: Scope;
  /** Changes something on the server: hidden in read-only mode. */
  mutating?: boolean;
  /** Shown in the footer (short list); the rest only in help. */
  hint?: boolean;
}

export const KEYMAP: readonly Binding[] = [
  { id: 'help', keys: ['?'], description: 'help', scope: 'global', hint: true },
  { id: 'command', keys: [':'], description: 'command prompt (:ctx, :users, :tok, :q)', scope: 'global', hint: true },
  { id: 'next-screen', keys: ['tab'], description: 'next screen', scope: 'global' },
  { id: 'prev-screen', keys: ['shift-tab'], description: 'previous screen', scope: 'global' },
  { id: 'screen-1', keys: ['1'], description: 'Contexts', scope: 'global' },
  { id: 'screen-2', keys: ['2'], description: 'Users', scope: 'global' },
  { id: 'screen-3', keys: ['3'], description: 'Tokens', scope: 'global' },
  { id: 'screen-4', keys: ['4'], description: 'Policies', scope: 'global' },
  { id: 'screen-5', keys: ['5'], description: 'Service accounts', scope: 'global' },
  { id: 'screen-6', keys: ['6'], description: 'Registries', scope: 'global' },
  { id: 'screen-7', keys: ['7'], description: 'Audit', scope: 'global' },
  { id: 'screen-8', keys: ['8'], description: 'Can-I', scope: 'global' },
  { id: 'refresh', keys: ['ctrl-r'], description: 'refresh', scope: 'global' },
  { id: 'quit', keys: ['q'], description: 'quit', scope: 'global', hint: true },
  { id: 'back', keys: ['esc'], description: 'back out of the current mode', scope: 'global' },
  { id: 'interrupt', keys: ['ctrl-c'], description: 'quit from anywhere (forms and editors included)', scope: 'global' },
  { id: 'help-close', keys: ['esc', '?', 'q'], description: 'close help', scope: 'global' },

  { id: 'text-move', keys: ['left', 'right'], description: 'move the cursor', scope: 'text' },
  { id: 'text-home', keys: ['home', 'ctrl-a'], description: 'start of the field', scope: 'text' },
  { id: 'text-end', keys: ['end', 'ctrl-e'], description: 'end of the field', scope: 'text' },
  { id: 'text-backspace', keys: ['backspace'], description: 'delete before the cursor', scope: 'text' },
  { id: 'text-delete', keys: ['delete', 'ctrl-d'], description: 'delete at the cursor', scope: 'text' },
  { id: 'text-kill-start', keys: ['ctrl-u'], description: 'delete to the start', scope: 'text' },
  { id: 'text-kill-end', keys: ['ctrl-k'], description: 'delete to the end', scope: 'text' },
  { id: 'text-kill-word', keys: ['ctrl-w'], description: 'delete the word before the cursor', scope: 'text' },
  { id: 'text-paste', keys: ['paste'], description: 'paste (inserted as it is; line breaks become spaces)', scope: 'text' },

  { id: 'up', keys: ['up', 'k'], description: 'move up', scope: 'list' },
  { id: 'down', keys: ['down', 'j'], description: 'move down', scope: 'list' },
  { id: 'page-up', keys: ['pgup', 'ctrl-b'], description: 'page up', scope: 'list' },
  { id: 'page-down', keys: ['pgdn', 'ctrl-f'], description: 'page down', scope: 'list' },
  { id: 'top', keys: ['home', 'g'], description: 'first row', scope: 'list' },
  { id: 'bottom', keys: ['end', 'G'], description: 'last row', scope: 'list' },
  { id: 'filter', keys: ['/'], description: 'filter rows', scope: 'list', hint: true },
  { id: 'filter-keep', keys: ['enter'], description: 'keep the filter', scope: 'list' },
  { id: 'filter-clear', keys: ['esc'], description: 'clear the filter', scope: 'list' },
  { id: 'sort', keys: ['s'], description: 'sort by the next column', scope: 'list' },
  { id: 'sort-reverse', keys: ['S'], description: 'reverse the sort', scope: 'list' },

  { id: 'ctx-use', keys: ['enter'], description: 'switch to this context', scope: 'contexts', hint: true },
  { id: 'ctx-add', keys: ['a'], description: 'add a context (log in)', scope: 'contexts', hint: true },
  { id: 'ctx-delete', keys: ['d'], description: 'delete the context', scope: 'contexts', hint: true },

  { id: 'user-new', keys: ['n'], description: 'create or update a user', scope: 'users', mutating: true, hint: true },
  { id: 'user-policies', keys: ['p'], description: 'attach / detach policies', scope: 'users', mutating: true, hint: true },
  { id: 'user-tokens', keys: ['enter'], description: 'the user\'s tokens', scope: 'users', hint: true },
  { id: 'user-delete', keys: ['d'], description: 'delete the user (revokes its tokens)', scope: 'users', mutating: true, hint: true },

  { id: 'token-new', keys: ['n'], description: 'create a token', scope: 'tokens', mutating: true, hint: true },
  { id: 'token-toggle', keys: ['e'], description: 'enable / disable', scope: 'tokens', mutating: true, hint: true },
  { id: 'token-edit', keys: ['u'], description: 'edit description and TTL', scope: 'tokens', mutating: true },
  { id: 'token-revoke', keys: ['x'], description: 'revoke', scope: 'tokens', mutating: true, hint: true },
  { id: 'token-rotate', keys: ['R'], description: 'rotate the secret (the old one works for a grace period)', scope: 'tokens', mutating: true, hint: true },
  { id: 'token-revoke-all', keys: ['X'], description: 'revoke every live token of the current filter (a preview, then type the count)', scope: 'tokens', mutating: true, hint: true },
  { id: 'token-stale', keys: ['v'], description: 'view: all tokens, unused for 30d, unused for 90d (stale)', scope: 'tokens', hint: true },

  { id: 'policy-open', keys: ['enter'], description: 'edit in the YAML editor (built-ins: a clone)', scope: 'policies', hint: true },
  { id: 'policy-new', keys: ['n'], description: 'new policy', scope: 'policies', mutating: true, hint: true },
  { id: 'policy-clone', keys: ['c'], description: 'clone', scope: 'policies', mutating: true, hint: true },
  { id: 'policy-external', keys: ['e'], description: 'edit in $VISUAL / $EDITOR', scope: 'policies', mutating: true, hint: true },
  { id: 'policy-delete', keys: ['d'], description: 'delete (says who holds it)', scope: 'policies', mutating: true, hint: true },

  { id: 'editor-save', keys: ['ctrl-s'], description: 'save (shows the diff first)', scope: 'editor', mutating: true, hint: true },
  { id: 'editor-external', keys: ['ctrl-o'], description: 'open in $VISUAL / $EDITOR', scope: 'editor', mutating: true, hint: true },
  { id: 'editor-close', keys: ['esc'], description: 'close (asks if unsaved)', scope: 'editor', hint: true },
  { id: 'editor-up', keys: ['up'], description: 'line up', scope: 'editor' },
  { id: 'editor-down', keys: ['down'], description: 'line down', scope: 'editor' },
  { id: 'editor-left', keys: ['left'], description: 'character left', scope: 'editor' },
  { id: 'editor-right', keys: ['right'], description: 'character right', scope: 'editor' },
  { id: 'editor-home', keys: ['home', 'ctrl-a'], description: 'start of the line', scope: 'editor' },
  { id: 'editor-end', keys: ['end', 'ctrl-e'], description: 'end of the line', scope: 'editor' },
  { id: 'editor-page-up', keys: ['pgup'], description: 'page up', scope: 'editor' },
  { id: 'editor-page-down', keys: ['pgdn'], description: 'page down', scope: 'editor' },
  { id: 'editor-newline', keys: ['enter'], description: 'new line, keeping the indentation', scope: 'editor', mutating: true },
  { id: 'editor-indent', keys: ['tab'], description: 'two spaces', scope: 'editor', mutating: true },
  { id: 'editor-backspace', keys: ['backspace'], description: 'delete before the cursor', scope: 'editor', mutating: true },
  { id: 'editor-delete', keys: ['delete', 'ctrl-d'], description: 'delete at the cursor', scope: 'editor', mutating: true },
  { id: 'editor-kill-line', keys: ['ctrl-k'], description: 'delete the line', scope: 'editor', mutating: true },
  { id: 'editor-select-all', keys: ['ctrl-x'], description: 'select all: the next paste or key replaces the whole text (Esc keeps it)', scope: 'editor', mutating: true, hint: true },
  { id: 'editor-paste', keys: ['paste'], description: 'paste, exactly as it is (no indentation added)', scope: 'editor', mutating: true },
  { id: 'editor-type', keys: ['text'], description: 'type', scope: 'editor', mutating: true },
  { id: 'editor-discard-yes', keys: ['y'], description: 'discard (when asked)', scope: 'editor' },
  { id: 'editor-discard-no', keys: ['n', 'esc'], description: 'keep editing (when asked)', scope: 'editor' },

  { id: 'sa-new', keys: ['n'], description: 'new service account (wizard)', scope: 'services', mutating: true, hint: true },
  { id: 'sa-token', keys: ['t'], description: 'mint another token', scope: 'services', mutating: true, hint: true },
  { id: 'sa-delete', keys: ['d'], description: 'delete (revokes its tokens)', scope: 'services', mutating: true, hint: true },
  { id: 'sa-tokens', keys: ['enter'], description: 'its tokens', scope: 'services', hint: true },

  { id: 'wizard-next', keys: ['enter'], description: 'next step', scope: 'wizard', hint: true },
  { id: 'wizard-back', keys: ['esc'], description: 'previous step (cancel on the first)', scope: 'wizard', hint: true },
  { id: 'wizard-toggle', keys: ['space'], description: 'toggle a permission', scope: 'wizard' },
  { id: 'wizard-move', keys: ['up', 'down'], description: 'move through namespaces / permissions', scope: 'wizard' },
  { id: 'wizard-ttl', keys: ['left', 'right'], description: 'choose the token lifetime', scope: 'wizard' },

  { id: 'reg-new', keys: ['n'], description: 'add a registry', scope: 'registries', mutating: true, hint: true },
  { id: 'reg-replace', keys: ['u'], description: 'replace its settings', scope: 'registries', mutating: true, hint: true },
  { id: 'reg-delete', keys: ['d'], description: 'remove', scope: 'registries', mutating: true, hint: true },

  { id: 'audit-outcome', keys: ['o'], description: 'cycle the outcome filter', scope: 'audit', hint: true },
  { id: 'audit-detail', keys: ['enter'], description: 'show the event', scope: 'audit', hint: true },
  { id: 'audit-detail-close', keys: ['esc', 'enter'], description: 'close the event', scope: 'audit' },

  { id: 'cani-check', keys: ['enter'], description: 'ask', scope: 'can-i', hint: true },
  { id: 'cani-mode', keys: ['tab'], description: 'switch between "can X do this?" and "who can do this?"', scope: 'can-i', hint: true },

  { id: 'secret-reveal', keys: ['r'], description: 'reveal / hide the secret', scope: 'secret', hint: true },
  { id: 'secret-copy', keys: ['c'], description: 'copy to the terminal clipboard (OSC 52)', scope: 'secret', hint: true },
  { id: 'secret-save', keys: ['w'], description: 'write to a file (0600)', scope: 'secret', hint: true },
  { id: 'secret-done', keys: ['enter', 'esc'], description: 'done (forget the secret)', scope: 'secret', hint: true },
  { id: 'secret-leave', keys: ['y'], description: 'leave (when asked)', scope: 'secret' },
  { id: 'secret-stay', keys: ['n', 'esc'], description: 'stay (when asked)', scope: 'secret' },
  { id: 'secret-write', keys: ['enter'], description: 'write the file (when saving)', scope: 'secret' },

  { id: 'form-next', keys: ['tab', 'down'], description: 'next field', scope: 'form' },
  { id: 'form-prev', keys: ['shift-tab', 'up'], description: 'previous field', scope: 'form' },
  { id: 'form-toggle', keys: ['space'], description: 'toggle a choice', scope: 'form' },
  { id: 'form-choose', keys: ['left', 'right'], description: 'previous / next choice', scope: 'form' },
  { id: 'form-submit', keys: ['enter'], description: 'submit', scope: 'form', hint: true },
  { id: 'form-cancel', keys: ['esc'], description: 'cancel', scope: 'form', hint: true },

  { id: 'confirm-yes', keys: ['y'], description: 'confirm', scope: 'confirm', hint: true },
  { id: 'confirm-no', keys: ['n', 'esc'], description: 'cancel', scope: 'confirm', hint: true },
  { id: 'confirm-choose', keys: ['left', 'right', 'tab'], description: 'move between Cancel and Confirm', scope: 'confirm' },
  { id: 'confirm-enter', keys: ['enter'], description: 'the focused button (production: the typed name)', scope: 'confirm' },

  { id: 'prompt-complete', keys: ['tab'], description: 'complete', scope: 'prompt', hint: true },
  { id: 'prompt-run', keys: ['enter'], description: 'run', scope: 'prompt', hint: true },
  { id: 'prompt-cancel', keys: ['esc'], description: 'cancel', scope: 'prompt', hint: true },
];

export const READ_ONLY_REFUSAL = 'read-only context';

/** Does this key press trigger binding `id`? ("text" stands for any key that types a character.) */
export function matches(id: string, name: string): boolean {
  for (const b of KEYMAP) if (b.id === id) return b.keys.includes(name);
  throw new Error(`no binding "${id}" in the keymap`);
}

/** The footer: short hints for the scopes in play, mutating ones left out when read-only. */
export function hintsFor(scopes: Scope[], readOnly: boolean): { keys: string; description: string }[] {
  return KEYMAP.filter((b) => b.hint && scopes.includes(b.scope) && !(readOnly && b.mutating)).map((b) => ({ keys: b.keys[0]!, description: b.description.split(' (')[0]! }));
}
