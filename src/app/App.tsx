import { Box, Text, useApp } from 'ink';
import React, { useEffect, useMemo, useRef } from 'react';
import type { RuneClient } from '../api/client.js';
import type { ContextStore } from '../config/contexts.js';
import { ErrorLine, Header, HelpView, KeyHints } from '../components/Chrome.js';
import { CommandPrompt } from '../components/CommandPrompt.js';
import { expiresSoon } from '../core/expiry.js';
import { describeError } from '../format/errors.js';
import { timeUntil } from '../format/time.js';
import { useResource } from '../hooks/useResource.js';
import { useTerminalSize } from '../hooks/useTerminalSize.js';
import { InputProvider, PRIORITY, useActions, useKeys } from '../tui/input.js';
import type { Scope } from '../tui/keymap.js';
import { themeFor } from '../tui/theme.js';
import { AuditScreen } from './screens/AuditScreen.js';
import { CanIScreen } from './screens/CanIScreen.js';
import { ContextsScreen } from './screens/ContextsScreen.js';
import { PoliciesScreen } from './screens/PoliciesScreen.js';
import { RegistriesScreen } from './screens/RegistriesScreen.js';
import { ServiceAccountsScreen } from './screens/ServiceAccountsScreen.js';
import { TokensScreen } from './screens/TokensScreen.js';
import { UsersScreen } from './screens/UsersScreen.js';
import { connect, type Connection } from './state/session.js';
import { initialState, SessionProvider, UIStateProvider, useUIStore, type Health, type ScreenId, type Session } from './state/uiState.js';

export const SCREENS: { id: ScreenId; title: string; commands: string[]; render: () => React.ReactElement }[] = [
  { id: 'contexts', title: 'Contexts', commands: ['ctx', 'context', 'contexts'], render: () => <ContextsScreen /> },
  { id: 'users', title: 'Users', commands: ['users', 'user', 'usr'], render: () => <UsersScreen /> },
  { id: 'tokens', title: 'Tokens', commands: ['tok', 'token', 'tokens'], render: () => <TokensScreen /> },
  { id: 'policies', title: 'Policies', commands: ['pol', 'policy', 'policies'], render: () => <PoliciesScreen /> },
  { id: 'services', title: 'Service accounts', commands: ['sa', 'service', 'services'], render: () => <ServiceAccountsScreen /> },
  { id: 'registries', title: 'Registries', commands: ['reg', 'registry', 'registries'], render: () => <RegistriesScreen /> },
  { id: 'audit', title: 'Audit', commands: ['audit'], render: () => <AuditScreen /> },
  { id: 'can-i', title: 'Can-I', commands: ['can-i', 'cani'], render: () => <CanIScreen /> },
];

/** How often the daemon's health is checked (also after every failed call); RUNE_HEALTH_MS overrides. */
export const HEALTH_INTERVAL_MS = 3000;
/** How long a notice stays when no key is pressed; RUNE_NOTICE_MS overrides. */
export const NOTICE_MS = 5000;

export interface AppProps {
  store: ContextStore;
  readOnly?: boolean;
  env?: NodeJS.ProcessEnv;
  initialScreen?: ScreenId;
  /** Start in this context (rune ui --context NAME) instead of the current one; not persisted. */
  initialContext?: string;
}

export function App(props: AppProps) {
  return (
    <InputProvider>
      <Shell {...props} />
    </InputProvider>
  );
}

/** "the daemon cannot be reached" vs. anything else (a 4xx means it is there). */
const unreachable = (e: unknown) => (e as { code?: string } | undefined)?.code === 'unavailable';

/**
 * The client, watched: a call that cannot reach the daemon marks the connection lost at once, a
 * call that gets any answer marks it up (the periodic check covers quiet times).
 */
function watched(client: RuneClient, report: (ok: boolean, error?: unknown) => void): RuneClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          result.then(
            () => report(true),
            (e: unknown) => report(!unreachable(e), e),
          );
        }
        return result;
      };
    },
  });
}

function Shell({ store, readOnly: forceReadOnly = false, env = process.env, initialScreen, initialContext }: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const theme = useMemo(() => themeFor(env), [env]);
  const { state, actions } = useUIStore(() => {
    const name = initialContext ?? store.current();
    return initialState(name, initialScreen ?? (name ? 'tokens' : 'contexts'));
  });
  const { contextName, mode, scopes, refresh, notice, health } = state;
  const here = state.stack[state.stack.length - 1]!;
  const screen = here.screen;
  const [exiting, setExiting] = React.useState(false);
  const healthMs = Number(env.RUNE_HEALTH_MS) || HEALTH_INTERVAL_MS;
  const noticeMs = Number(env.RUNE_NOTICE_MS) || NOTICE_MS;

  const connection = useMemo((): { conn?: Connection; error?: string } => {
    try {
      const c = connect(store, contextName, env);
      const report = (ok: boolean, e?: unknown) => actions.setHealth(ok ? { state: 'up' } : { state: 'down', message: describeError(e) }, c.target.server);
      return { conn: { ...c, client: watched(c.client, report) } };
    } catch (e) {
      return { error: describeError(e) };
    }
  }, [store, contextName, env]);
  const conn = connection.conn;
  const whoami = useResource(() => (conn ? conn.client.whoami() : Promise.reject(new Error(connection.error))), [conn, refresh]);
  const readOnly = forceReadOnly || conn?.target.readOnly === true;
  const production = conn?.target.production === true;

  // The daemon's health: checked every few seconds, and at once after a call that could not reach it.
  const checking = useRef(false);
  useEffect(() => {
    if (!conn) return;
    const check = () => {
      if (checking.current) return;
      checking.current = true;
      conn.client.whoami().finally(() => (checking.current = false)).catch(() => {});
    };
    const timer = setInterval(check, health.state === 'down' ? Math.min(1000, healthMs) : healthMs);
    return () => clearInterval(timer);
  }, [conn, health.state, healthMs]);

  // A notice fades after a while, or on the next key (below).
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => actions.clearNotice(notice.id), noticeMs);
    return () => clearTimeout(timer);
  }, [notice?.id]);
  const noticeRef = useRef(notice);
  noticeRef.current = notice;
  useKeys(PRIORITY.interrupt + 1, () => {
    if (noticeRef.current) actions.clearNotice(noticeRef.current.id);
    return false;
  });

  // The last frame must not hold anything secret: render nothing, then leave.
  useEffect(() => {
    if (exiting) setTimeout(() => exit(), 0);
  }, [exiting]);

  const go = (id: ScreenId) => actions.navigate(id);
  const switchContext = (name: string) => {
    actions.switchContext(name);
    actions.notify(`switched to context ${name}`);
  };
  const order = SCREENS.map((s) => s.id);

  const screenKeys: Record<string, () => void> = {};
  SCREENS.forEach((s, i) => (screenKeys[`screen-${i + 1}`] = () => go(s.id)));
  useActions(PRIORITY.global, {
    quit: () => setExiting(true),
    help: () => actions.setMode('help'),
    command: () => actions.setMode('prompt'),
    refresh: () => actions.refresh(),
    'next-screen': () => go(order[(order.indexOf(screen) + 1) % order.length]!),
    'prev-screen': () => go(order[(order.indexOf(screen) - 1 + order.length) % order.length]!),
    ...screenKeys,
    // Back to where this screen was opened from (Users → a user's tokens → Esc → Users).
    back: () => (state.stack.length > 1 ? actions.back() : false),
  });
  // ctrl-c leaves from anywhere, above every modal, form and editor.
  useActions(PRIORITY.interrupt, { interrupt: () => setExiting(true) });
  // Help is a modal: any of Esc, ? or q closes it, nothing else gets through.
  useActions(PRIORITY.modal, { 'help-close': () => actions.setMode('normal') }, { active: mode === 'help', fallback: () => true });

  const runCommand = (line: string) => {
    actions.setMode('normal');
    const [cmd = '', arg] = line.replace(/^:/, '').split(/\s+/);
    if (cmd === 'q' || cmd === 'quit') return setExiting(true);
    if (cmd === 'help') return actions.setMode('help');
    const target = SCREENS.find((s) => s.commands.includes(cmd));
    if (!target) return actions.notify(`unknown command "${cmd}": try ${SCREENS.map((s) => s.commands[0]).join(', ')}, q`, true);
    if (target.id === 'contexts' && arg) {
      try {
        store.use(arg);
        switchContext(arg);
      } catch (e) {
        actions.notify(describeError(e), true);
      }
      return;
    }
    actions.navigate(target.id, target.id === 'tokens' && arg ? { subject: arg } : undefined, target.id === 'tokens' && !!arg);
  };
  const candidates = (line: string): string[] => {
    const words = line.replace(/^:/, '').split(' ');
    if (words.length <= 1) return [...SCREENS.flatMap((s) => s.commands), 'help', 'q'];
    if (['ctx', 'context', 'contexts'].includes(words[0]!)) return Object.keys(store.contexts());
    return [];
  };

  if (exiting) return <Text> </Text>;

  // One row short: a frame as tall as the terminal makes Ink write ESC[2J ESC[3J (scrollback gone) each render.
  const height = Math.max(4, rows - 1);
  const promptLines = mode === 'prompt' ? 2 : 1;
  const bodyHeight = Math.max(3, height - 2 - promptLines);
  const current = SCREENS.find((s) => s.id === screen)!;
  const header = {
    context: conn?.target.context,
    server: conn?.target.server ?? '?',
    subject: whoami.data ? `${whoami.data.subject.name}` : whoami.error ? '(not signed in)' : undefined,
    namespace: conn?.target.namespace ?? 'default',
    production,
    readOnly,
    health: health.state,
    screen: `${order.indexOf(screen) + 1}:${current.title}`,
    tokenExpiresIn: whoami.data?.token.expiresAt && expiresSoon(whoami.data.token.expiresAt) ? timeUntil(whoami.data.token.expiresAt) : undefined,
  };
  const session: Session | undefined = conn && { conn, store, whoami: whoami.data, theme, readOnly, production, width: columns, height: bodyHeight };
  // Each mode shows its own hints: the prompt's keys while typing a command, not the list's.
  const hintScopes: Scope[] = mode === 'help' ? ['global'] : mode === 'prompt' ? ['prompt'] : scopes;
  const errorLine = health.state === 'down' ? undefined : whoami.error && screen !== 'contexts' ? describeError(whoami.error) : undefined;
  return (
    <UIStateProvider state={state} actions={actions}>
      <Box flexDirection="column" width={columns} height={height}>
        <Header info={header} theme={theme} width={columns} />
        <Box flexDirection="column" height={bodyHeight} overflow="hidden">
          {mode === 'help' ? (
            <HelpView scopes={[...new Set<Scope>(['global', ...scopes, ...(columns >= 120 ? (['text'] as Scope[]) : [])])]} readOnly={readOnly} theme={theme} height={bodyHeight - 1} width={columns} />
          ) : session ? (
            <SessionProvider value={session}>
              <Box key={`${screen}:${here.params?.subject ?? ''}:${contextName ?? ''}`} flexDirection="column">
                {current.render()}
              </Box>
            </SessionProvider>
          ) : (
            <ErrorLine message={connection.error ?? 'no connection'} theme={theme} />
          )}
        </Box>
        {mode === 'prompt' ? (
          <CommandPrompt candidates={candidates} onRun={runCommand} onCancel={() => actions.setMode('normal')} theme={theme} />
        ) : (
          <Box height={1}>
            {notice ? (
              <Text color={notice.error ? theme.danger : undefined} dimColor={!notice.error && theme.dim} wrap="truncate">
                {notice.text}
              </Text>
            ) : errorLine ? (
              <Text color={theme.danger} wrap="truncate">{errorLine}</Text>
            ) : (
              <Text> </Text>
            )}
          </Box>
        )}
        <KeyHints scopes={hintScopes} readOnly={readOnly} theme={theme} width={columns} />
      </Box>
    </UIStateProvider>
  );
}

export type { Health };
