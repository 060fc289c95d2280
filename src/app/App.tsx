import { Box, Text, useApp } from 'ink';
import React, { useEffect, useMemo, useState } from 'react';
import { describeError } from '../format/errors.js';
import type { ContextStore } from '../config/contexts.js';
import { ErrorLine, Header, HelpView, KeyHints } from '../components/Chrome.js';
import { CommandPrompt } from '../components/CommandPrompt.js';
import { useResource } from '../hooks/useResource.js';
import { useTerminalSize } from '../hooks/useTerminalSize.js';
import { ContextsScreen } from './screens/ContextsScreen.js';
import { TokensScreen } from './screens/TokensScreen.js';
import type { ScreenId, ScreenProps } from './screens/types.js';
import { UsersScreen } from './screens/UsersScreen.js';
import { PoliciesScreen } from './screens/PoliciesScreen.js';
import { ServiceAccountsScreen } from './screens/ServiceAccountsScreen.js';
import { RegistriesScreen } from './screens/RegistriesScreen.js';
import { AuditScreen } from './screens/AuditScreen.js';
import { CanIScreen } from './screens/CanIScreen.js';
import { InputProvider, PRIORITY, useActions } from '../tui/input.js';
import type { Scope } from '../tui/keymap.js';
import { connect } from './state/session.js';
import { themeFor } from '../tui/theme.js';

export const SCREENS: { id: ScreenId; title: string; commands: string[]; render: (p: ScreenProps) => React.ReactElement }[] = [
  { id: 'contexts', title: 'Contexts', commands: ['ctx', 'context', 'contexts'], render: (p) => <ContextsScreen {...p} /> },
  { id: 'users', title: 'Users', commands: ['users', 'user', 'usr'], render: (p) => <UsersScreen {...p} /> },
  { id: 'tokens', title: 'Tokens', commands: ['tok', 'token', 'tokens'], render: (p) => <TokensScreen {...p} /> },
  { id: 'policies', title: 'Policies', commands: ['pol', 'policy', 'policies'], render: (p) => <PoliciesScreen {...p} /> },
  { id: 'services', title: 'Service accounts', commands: ['sa', 'service', 'services'], render: (p) => <ServiceAccountsScreen {...p} /> },
  { id: 'registries', title: 'Registries', commands: ['reg', 'registry', 'registries'], render: (p) => <RegistriesScreen {...p} /> },
  { id: 'audit', title: 'Audit', commands: ['audit'], render: (p) => <AuditScreen {...p} /> },
  { id: 'can-i', title: 'Can-I', commands: ['can-i', 'cani'], render: (p) => <CanIScreen {...p} /> },
];

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

function Shell({ store, readOnly: forceReadOnly = false, env = process.env, initialScreen, initialContext }: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const theme = useMemo(() => themeFor(env), [env]);
  const [contextName, setContextName] = useState(() => initialContext ?? store.current());
  const [screen, setScreen] = useState<ScreenId>(initialScreen ?? (contextName ? 'tokens' : 'contexts'));
  const [params, setParams] = useState<{ subject?: string } | undefined>();
  const [mode, setMode] = useState<'normal' | 'help' | 'prompt'>('normal');
  const [scopes, setScopes] = useState<Scope[]>(['global', 'list']);
  const [refresh, setRefresh] = useState(0);
  const [notice, setNotice] = useState<string | undefined>();
  const [exiting, setExiting] = useState(false);
  const [draft, setDraft] = useState<string | undefined>();
  const [canIQuery, setCanIQuery] = useState<Record<string, string> | undefined>();

  const connection = useMemo(() => {
    try {
      return { conn: connect(store, contextName, env) };
    } catch (e) {
      return { error: describeError(e) };
    }
  }, [store, contextName, env]);
  const conn = connection.conn;
  const whoami = useResource(() => (conn ? conn.client.whoami() : Promise.reject(new Error(connection.error))), [conn, refresh]);
  const readOnly = forceReadOnly || conn?.target.readOnly === true;
  const production = conn?.target.production === true;

  // The last frame must not hold anything secret: render nothing, then leave.
  useEffect(() => {
    if (exiting) setTimeout(() => exit(), 0);
  }, [exiting]);

  const go = (id: ScreenId, p?: { subject?: string }) => {
    setScreen(id);
    setParams(p);
    setMode('normal');
  };
  const switchContext = (name: string) => {
    setContextName(name);
    setNotice(`switched to context ${name}`);
    setRefresh((r) => r + 1);
  };
  const order = SCREENS.map((s) => s.id);

  const screenKeys: Record<string, () => void> = {};
  SCREENS.forEach((s, i) => (screenKeys[`screen-${i + 1}`] = () => go(s.id)));
  useActions(PRIORITY.global, {
    quit: () => setExiting(true),
    help: () => setMode('help'),
    command: () => setMode('prompt'),
    refresh: () => setRefresh((r) => r + 1),
    'next-screen': () => go(order[(order.indexOf(screen) + 1) % order.length]!),
    'prev-screen': () => go(order[(order.indexOf(screen) - 1 + order.length) % order.length]!),
    ...screenKeys,
    back: () => (params ? setParams(undefined) : false),
  });
  // ctrl-c leaves from anywhere, above every modal, form and editor.
  useActions(PRIORITY.interrupt, { interrupt: () => setExiting(true) });
  // Help is a modal: any of Esc, ? or q closes it, nothing else gets through.
  useActions(PRIORITY.modal, { 'help-close': () => setMode('normal') }, { active: mode === 'help', fallback: () => true });

  const runCommand = (line: string) => {
    setMode('normal');
    const [cmd = '', arg] = line.replace(/^:/, '').split(/\s+/);
    if (cmd === 'q' || cmd === 'quit') return setExiting(true);
    if (cmd === 'help') return setMode('help');
    const target = SCREENS.find((s) => s.commands.includes(cmd));
    if (!target) return setNotice(`unknown command "${cmd}": try ${SCREENS.map((s) => s.commands[0]).join(', ')}, q`);
    if (target.id === 'contexts' && arg) {
      try {
        store.use(arg);
        switchContext(arg);
      } catch (e) {
        setNotice(describeError(e));
      }
      return;
    }
    go(target.id, target.id === 'tokens' && arg ? { subject: arg } : undefined);
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
    screen: `${order.indexOf(screen) + 1}:${current.title}`,
  };
  const screenProps: ScreenProps | undefined = conn && {
    conn,
    store,
    whoami: whoami.data,
    theme,
    width: columns,
    height: bodyHeight,
    readOnly,
    production,
    refresh,
    setScopes,
    navigate: go,
    switchContext,
    notify: setNotice,
    params,
    draft,
    setDraft,
    canIQuery,
    setCanIQuery,
  };
  return (
    <Box flexDirection="column" width={columns} height={height}>
      <Header info={header} theme={theme} width={columns} />
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {mode === 'help' ? (
          <HelpView scopes={[...new Set<Scope>(['global', ...scopes, ...(columns >= 120 ? (['text'] as Scope[]) : [])])]} readOnly={readOnly} theme={theme} height={bodyHeight - 1} width={columns} />
        ) : screenProps ? (
          <Box key={`${screen}:${contextName ?? ''}`} flexDirection="column">
            {current.render(screenProps)}
          </Box>
        ) : (
          <ErrorLine message={connection.error ?? 'no connection'} theme={theme} />
        )}
      </Box>
      {mode === 'prompt' ? (
        <CommandPrompt candidates={candidates} onRun={runCommand} onCancel={() => setMode('normal')} theme={theme} />
      ) : (
        <Box height={1}>
          {whoami.error && screen !== 'contexts' ? (
            <Text color={theme.danger} wrap="truncate">{describeError(whoami.error)}</Text>
          ) : (
            <Text dimColor={theme.dim} wrap="truncate">{notice ?? ''}</Text>
          )}
        </Box>
      )}
      <KeyHints scopes={mode === 'help' ? ['global'] : scopes} readOnly={readOnly} theme={theme} width={columns} />
    </Box>
  );
}
