/**
 * The one keymap: every key the TUI answers to, where it applies, and what it does. The footer
 * hints and the `?` help screen are generated from this list; handlers refer to bindings by id.
 */
export type Scope = 'global' | 'list' | 'contexts' | 'users' | 'tokens' | 'secret' | 'form' | 'confirm' | 'prompt';

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
  { id: 'refresh', keys: ['ctrl-r'], description: 'refresh', scope: 'global' },
  { id: 'quit', keys: ['q'], description: 'quit', scope: 'global', hint: true },
  { id: 'back', keys: ['esc'], description: 'back out of the current mode', scope: 'global' },

  { id: 'up', keys: ['up', 'k'], description: 'move up', scope: 'list' },
  { id: 'down', keys: ['down', 'j'], description: 'move down', scope: 'list' },
  { id: 'page-up', keys: ['pgup', 'ctrl-b'], description: 'page up', scope: 'list' },
  { id: 'page-down', keys: ['pgdn', 'ctrl-f'], description: 'page down', scope: 'list' },
  { id: 'top', keys: ['home', 'g'], description: 'first row', scope: 'list' },
  { id: 'bottom', keys: ['end', 'G'], description: 'last row', scope: 'list' },
  { id: 'filter', keys: ['/'], description: 'filter rows', scope: 'list', hint: true },
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

  { id: 'secret-reveal', keys: ['r'], description: 'reveal / hide the secret', scope: 'secret', hint: true },
  { id: 'secret-copy', keys: ['c'], description: 'copy to the terminal clipboard (OSC 52)', scope: 'secret', hint: true },
  { id: 'secret-save', keys: ['w'], description: 'write to a file (0600)', scope: 'secret', hint: true },
  { id: 'secret-done', keys: ['enter', 'esc'], description: 'done (forget the secret)', scope: 'secret', hint: true },

  { id: 'form-next', keys: ['tab', 'down'], description: 'next field', scope: 'form' },
  { id: 'form-prev', keys: ['shift-tab', 'up'], description: 'previous field', scope: 'form' },
  { id: 'form-toggle', keys: ['space'], description: 'toggle a choice', scope: 'form' },
  { id: 'form-submit', keys: ['enter'], description: 'submit', scope: 'form', hint: true },
  { id: 'form-cancel', keys: ['esc'], description: 'cancel', scope: 'form', hint: true },

  { id: 'confirm-yes', keys: ['y'], description: 'confirm', scope: 'confirm', hint: true },
  { id: 'confirm-no', keys: ['n', 'esc'], description: 'cancel', scope: 'confirm', hint: true },
  { id: 'confirm-choose', keys: ['left', 'right', 'tab'], description: 'move between Cancel and Confirm', scope: 'confirm' },

  { id: 'prompt-complete', keys: ['tab'], description: 'complete', scope: 'prompt', hint: true },
  { id: 'prompt-run', keys: ['enter'], description: 'run', scope: 'prompt', hint: true },
  { id: 'prompt-cancel', keys: ['esc'], description: 'cancel', scope: 'prompt', hint: true },
];

export interface KeyEvent {
  input: string;
  upArrow: boolean;
  downArrow: boolean;
  leftArrow: boolean;
  rightArrow: boolean;
  pageUp: boolean;
  pageDown: boolean;
  home?: boolean;
  end?: boolean;
  return: boolean;
  escape: boolean;
  ctrl: boolean;
  shift: boolean;
  tab: boolean;
  backspace: boolean;
  delete: boolean;
}

/** The name of a key press as the keymap writes it: "ctrl-r", "shift-tab", "enter", "k". */
export function keyName(input: string, key: KeyEvent): string {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pgup';
  if (key.pageDown) return 'pgdn';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  if (key.escape) return 'esc';
  if (key.tab) return key.shift ? 'shift-tab' : 'tab';
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl && input) return `ctrl-${input}`;
  if (input === ' ') return 'space';
  return input;
}

const byId = new Map(KEYMAP.map((b) => [`${b.scope}:${b.id}`, b]));

/** Does this key press trigger binding `id`? */
export function matches(id: string, name: string): boolean {
  for (const b of KEYMAP) if (b.id === id) return b.keys.includes(name);
  throw new Error(`no binding "${id}" in the keymap`);
}

export function binding(scope: Scope, id: string): Binding | undefined {
  return byId.get(`${scope}:${id}`);
}

/** The footer: short hints for the scopes in play, mutating ones left out when read-only. */
export function hintsFor(scopes: Scope[], readOnly: boolean): { keys: string; description: string }[] {
  return KEYMAP.filter((b) => b.hint && scopes.includes(b.scope) && !(readOnly && b.mutating)).map((b) => ({ keys: b.keys[0]!, description: b.description.split(' (')[0]! }));
}
