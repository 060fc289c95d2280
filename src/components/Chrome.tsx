import { Box, Text } from 'ink';
import React from 'react';
import { hintsFor, KEYMAP, type Scope } from '../tui/keymap.js';
import type { Theme } from '../tui/theme.js';

export interface HeaderInfo {
  context?: string | undefined;
  server: string;
  subject?: string | undefined;
  namespace: string;
  production: boolean;
  readOnly: boolean;
  /** The daemon's connection: "up", "down" (shown as OFFLINE) or not known yet. */
  health?: 'up' | 'down' | 'unknown';
  screen: string;
  /** The current context's own token expires soon: how long it has left ("3d"), shown as a badge. */
  tokenExpiresIn?: string | undefined;
}

/**
 * The operator's header, always visible and always one line: badges first (they must never be cut
 * off), then context, subject, namespace and server; the server is what gives way at 80 columns.
 */
export function Header({ info, theme, width }: { info: HeaderInfo; theme: Theme; width: number }) {
  const prod = info.production;
  const server = info.server.replace(/^https?:\/\//, '');
  const offline = info.health === 'down';
  const right = `${offline ? ' OFFLINE' : info.health === 'up' ? ' ●' : ' ○'} ${info.screen}`;
  const expiry = info.tokenExpiresIn ? ` TOKEN EXPIRES IN ${info.tokenExpiresIn} ` : '';
  const badges = `${prod ? ' PRODUCTION ' : ''}${prod && info.readOnly ? ' ' : ''}${info.readOnly ? ' READ-ONLY ' : ''}${(prod || info.readOnly) && expiry ? ' ' : ''}${expiry}`;
  const fixed = `rune ${badges}${badges ? ' ' : ''}ctx:${info.context ?? '(none)'}  as:${info.subject ?? '?'}  ns:${info.namespace}  srv:`;
  const room = Math.max(0, width - fixed.length - right.length);
  const srv = server.length > room ? server.slice(0, Math.max(0, room - 1)) + (room > 0 ? '…' : '') : server;
  const gap = Math.max(0, width - fixed.length - srv.length - right.length);
  return (
    <Box width={width} height={1} overflow="hidden">
      <Text wrap="truncate">
        <Text bold color={theme.accent}>rune</Text>
        {' '}
        {prod ? (
          <Text bold inverse={!theme.color} color={theme.color ? 'white' : undefined} backgroundColor={theme.color ? theme.danger : undefined}>
            {' PRODUCTION '}
          </Text>
        ) : null}
        {prod && info.readOnly ? ' ' : ''}
        {info.readOnly ? <Text inverse bold color={theme.warn}>{' READ-ONLY '}</Text> : null}
        {(prod || info.readOnly) && expiry ? ' ' : ''}
        {expiry ? <Text bold inverse={!theme.color} color={theme.warn}>{expiry}</Text> : null}
        {badges ? ' ' : ''}
        <Text color={prod ? theme.danger : undefined} bold={prod}>ctx:{info.context ?? '(none)'}</Text>
        {`  as:${info.subject ?? '?'}  ns:${info.namespace}  srv:${srv}${' '.repeat(gap)}`}
        {offline ? (
          <Text bold color={theme.danger} inverse={!theme.color}>
            {' OFFLINE'}
          </Text>
        ) : (
          <Text color={info.health === 'up' ? theme.ok : undefined} dimColor={info.health !== 'up'}>
            {info.health === 'up' ? ' ●' : ' ○'}
          </Text>
        )}
        <Text bold>{` ${info.screen}`}</Text>
      </Text>
    </Box>
  );
}

/** One line of key hints for the scopes in play. */
export function KeyHints({ scopes, readOnly, theme, width }: { scopes: Scope[]; readOnly: boolean; theme: Theme; width: number }) {
  const hints = hintsFor(scopes, readOnly);
  return (
    <Box width={width}>
      <Text wrap="truncate" dimColor={theme.dim}>
        {hints.map((h) => `${h.keys} ${h.description}`).join('  ·  ')}
      </Text>
    </Box>
  );
}

const SCOPE_TITLES: Record<Scope, string> = {
  global: 'Everywhere',
  list: 'Lists',
  text: 'Text fields (prompt, filter, forms)',
  contexts: 'Contexts',
  users: 'Users',
  tokens: 'Tokens',
  policies: 'Policies',
  editor: 'YAML editor',
  services: 'Service accounts',
  wizard: 'Service-account wizard',
  registries: 'Registries',
  audit: 'Audit',
  'can-i': 'Can-I',
  secret: 'Secret display',
  form: 'Forms',
  confirm: 'Confirmations',
  prompt: 'Command prompt',
};

/** The `?` screen for the scopes in play, generated from the keymap. */
export function HelpView({ scopes, readOnly, theme, height, width }: { scopes: Scope[]; readOnly: boolean; theme: Theme; height: number; width: number }) {
  const lines: { text: string; title?: boolean }[] = [];
  for (const scope of scopes) {
    const bindings = KEYMAP.filter((b) => b.scope === scope && !(readOnly && b.mutating));
    if (bindings.length === 0) continue;
    lines.push({ text: SCOPE_TITLES[scope], title: true });
    for (const b of bindings) lines.push({ text: `  ${b.keys.join(', ').padEnd(12)} ${b.description}` });
  }
  // Two columns when the terminal is wide enough, so the whole map fits at 80×24 too.
  const perColumn = Math.max(1, height - 1);
  const columns: (typeof lines)[] = [];
  for (let i = 0; i < lines.length; i += perColumn) columns.push(lines.slice(i, i + perColumn));
  const colWidth = Math.floor(width / Math.max(1, columns.length));
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        Keys (Esc closes){scopes.includes('text') ? '' : <Text dimColor={theme.dim}>{'  text fields: ←/→ Home/End ctrl-a/e/u/w/k Del, paste'}</Text>}
      </Text>
      <Box>
        {columns.map((col, i) => (
          <Box key={i} flexDirection="column" width={colWidth} paddingRight={1}>
            {col.map((l, j) => (
              <Text key={j} bold={l.title === true} color={l.title ? theme.accent : undefined} wrap="truncate">
                {l.text}
              </Text>
            ))}
          </Box>
        ))}
      </Box>
    </Box>
  );
}

export function ErrorLine({ message, theme }: { message: string; theme: Theme }) {
  return (
    <Text color={theme.danger} wrap="wrap">
      {theme.color ? '' : 'error: '}
      {message}
    </Text>
  );
}
