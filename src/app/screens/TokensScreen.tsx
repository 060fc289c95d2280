import { Box, Text } from 'ink';
import React, { useEffect, useMemo, useState } from 'react';
import { describeError } from '../../format/errors.js';
import { age, timeUntil } from '../../format/time.js';
import { parseDuration } from '../../core/duration.js';
import { DEFAULT_ROTATION_GRACE, EXPIRY_WARNING_MS } from '../../core/expiry.js';
import { formatSelector, type Selector } from '../../core/selector.js';
import type { Token, TokenBulkAnswer } from '../../core/wire.js';
import { ErrorLine } from '../../components/Chrome.js';
import { Confirm } from '../../components/Confirm.js';
import type { Column } from '../../components/DataTable.js';
import { Form, type Values } from '../../components/Form.js';
import { SecretReveal } from '../../components/SecretReveal.js';
import { useServerTable } from '../../hooks/useServerList.js';
import { StatusLine, useStatus } from '../../hooks/useStatus.js';
import { PRIORITY, useActions } from '../../tui/input.js';
import type { Theme } from '../../tui/theme.js';
import { useScreen } from './types.js';

const TTL_PRESETS = ['24h', '30d', '90d', 'never', 'custom'];

export function expiresText(t: Token, now = Date.now()): string {
  if (!t.expiresAt) return 'never';
  const ms = Date.parse(t.expiresAt) - now;
  if (ms <= 0) return 'expired';
  return `${ms <= EXPIRY_WARNING_MS ? '!' : ''}in ${timeUntil(t.expiresAt, now)}`;
}

export function tokenColumns(theme: Theme, wide: boolean): Column<Token>[] {
  const cols: Column<Token>[] = [
    { key: 'name', header: 'NAME', width: 'flex', value: (t) => t.name },
    { key: 'subject', header: 'SUBJECT', width: 12, value: (t) => t.subjectName },
    { key: 'type', header: 'TYPE', width: 4, value: (t) => (t.subjectType === 'service' ? 'svc' : 'user') },
    { key: 'policies', header: 'POLICIES', width: 12, value: (t) => t.policies.join(',') || '(all)' },
    {
      key: 'expires',
      header: 'EXPIRES',
      width: 9,
      value: (t) => expiresText(t),
      sortValue: (t) => (t.expiresAt ? Date.parse(t.expiresAt) : Number.MAX_SAFE_INTEGER),
      color: (t) => (expiresText(t).startsWith('!') ? theme.warn : expiresText(t) === 'expired' ? theme.danger : undefined),
    },
    { key: 'used', header: 'LAST USED', width: 9, value: (t) => (t.lastUsedAt ? `${age(t.lastUsedAt)} ago` : 'never'), sortValue: (t) => (t.lastUsedAt ? -Date.parse(t.lastUsedAt) : 0) },
    {
      key: 'status',
      header: 'STATUS',
      width: 8,
      value: (t) => t.status,
      color: (t) => (t.status === 'active' ? theme.ok : t.status === 'disabled' ? theme.warn : theme.danger),
    },
  ];
  if (wide) cols.unshift({ key: 'id', header: 'ID', width: 24, value: (t) => t.id });
  return cols;
}

type Mode =
  | { kind: 'list' }
  | { kind: 'create' }
  | { kind: 'edit'; token: Token }
  | { kind: 'revoke'; token: Token }
  | { kind: 'rotate'; token: Token }
  | { kind: 'rotate-grace'; token: Token }
  | { kind: 'revoke-all'; answer: TokenBulkAnswer }
  | { kind: 'secret'; title: string; secret: string; file: string };

/** The views `v` cycles through: every token, then the stale ones (unused for that long, or never used and that old). */
const VIEWS: { label: string; unusedFor?: number }[] = [{ label: 'all' }, { label: 'unused for 30d', unusedFor: 30 * 86_400_000 }, { label: 'unused for 90d', unusedFor: 90 * 86_400_000 }];
/** Rows of the X preview shown before the count is typed. */
const PREVIEW_ROWS = 8;

const FIRST_PAGE = 300;
const NEXT_PAGE = 1000;
/** Column → the daemon's ?sort= (as the column shows it ascending). */
const TOKEN_SERVER_SORTS: Record<string, string> = { name: 'name', subject: 'subject', expires: 'expires', used: '-lastUsed' };

/** "12 of 1,004" (the daemon's count), "300+" while pages remain, "1000+ match" when it is capped. */
export function countText(loaded: number, more: boolean, total: number | undefined, capped: boolean | undefined, searching: boolean): string {
  if (total === undefined) return `${loaded}${more ? '+' : ''}`;
  const all = `${total.toLocaleString('en-US')}${capped ? '+' : ''}`;
  if (searching) return `${all} ${total === 1 && !capped ? 'match' : 'matches'}${loaded < total ? `, ${loaded} loaded` : ''}`;
  return loaded < total ? `${loaded} of ${all}` : all;
}

export function TokensScreen() {
  const props = useScreen();
  const { conn, theme, width, height, setScopes, refresh, readOnly, params, whoami } = props;
  const subject = params?.subject;
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  const columns = useMemo(() => tokenColumns(theme, width >= 120), [theme, width >= 120]);
  const [reloads, setReloads] = useState(0);
  const [view, setView] = useState(0);
  const stale = VIEWS[view]!.unusedFor;
  const viewSelector = stale === undefined ? undefined : formatSelector({ unusedFor: stale });
  // Search and sort are the daemon's: it sees every token, not only the pages loaded.
  const { list: pages, table } = useServerTable((q) => conn.client.listTokensPage({ ...q, ...(subject ? { subject } : {}), ...(viewSelector ? { selector: viewSelector } : {}) }), [conn, subject, refresh, reloads, viewSelector], columns, Math.max(1, height - 3), {
    memory: props.memory('tokens'),
    sorts: TOKEN_SERVER_SORTS,
    first: FIRST_PAGE,
    next: NEXT_PAGE,
  });
  const selected = table.selectedRow;

  useEffect(
    () => setScopes(mode.kind === 'list' ? ['global', 'list', 'tokens'] : mode.kind === 'secret' ? ['secret'] : mode.kind === 'revoke' || mode.kind === 'rotate' || mode.kind === 'revoke-all' ? ['confirm'] : ['form']),
    [mode.kind],
  );

  const { status, note, ok: done, fail } = useStatus(() => (setMode({ kind: 'list' }), setReloads((r) => r + 1)));

  /** The rows on screen as the daemon filters them: the subject opened, the view, the search typed. */
  const filterSelector = (): Selector => ({
    ...(subject ? { subject } : {}),
    ...(stale !== undefined ? { unusedFor: stale } : {}),
    ...(table.filter.trim() ? { search: table.filter.trim() } : {}),
  });
  const [previewing, setPreviewing] = useState(false);
  const previewRevokeAll = () => {
    const selector = filterSelector();
    if (Object.keys(selector).length === 0) {
      note('X revokes the tokens of a filter: filter with / first (or open a user\'s tokens, or the stale view with v)', true);
      return;
    }
    if (previewing) return;
    setPreviewing(true);
    conn.client.revokeTokens({ selector: formatSelector(selector), dryRun: true }).then(
      (answer) => {
        setPreviewing(false);
        if (answer.count === 0) note(`no live token matches ${answer.selector}${answer.skipped.length ? ' (only the token of this session, which X never revokes)' : ''}: nothing to revoke`);
        else setMode({ kind: 'revoke-all', answer });
      },
      (e: unknown) => {
        setPreviewing(false);
        fail(e);
      },
    );
  };

  useActions(
    PRIORITY.screen,
    table.filtering
      ? {}
      : {
          'token-new': () => setMode({ kind: 'create' }),
          'token-toggle': () => {
            if (!selected) return false;
            if (selected.status === 'revoked') note('a revoked token cannot be changed', true);
            else conn.client.updateToken(selected.id, { enabled: !selected.enabled }).then((t) => done(`token ${t.name} ${t.enabled ? 'enabled' : 'disabled'}`), fail);
          },
          'token-edit': () => (selected ? setMode({ kind: 'edit', token: selected }) : false),
          'token-revoke': () => (selected ? setMode({ kind: 'revoke', token: selected }) : false),
          'token-rotate': () => {
            if (!selected) return false;
            if (selected.status === 'revoked' || selected.status === 'expired') note(`a ${selected.status} token cannot be rotated`, true);
            else setMode({ kind: 'rotate', token: selected });
          },
          'token-revoke-all': () => previewRevokeAll(),
          'token-stale': () => setView((v) => (v + 1) % VIEWS.length),
        },
    { active: mode.kind === 'list', readOnly, onRefused: (text) => note(text, true), fallback: table.onKey },
  );

  if (mode.kind === 'secret') {
    return <SecretReveal title={mode.title} secret={mode.secret} suggestedFile={mode.file} onDone={() => done('secret dismissed: it cannot be shown again')} theme={theme} />;
  }
  if (mode.kind === 'create') {
    return (
      <Form
        title="Create a token"
        fields={[
          { name: 'name', label: 'Name', kind: 'text', placeholder: 'alice-laptop' },
          { name: 'subject', label: 'Subject', kind: 'text', placeholder: whoami?.subject.name ?? 'yourself', hint: 'user or service account' },
          { name: 'policies', label: 'Policies', kind: 'text', placeholder: '(all of the subject\'s)', hint: 'comma-separated; narrows the token' },
          { name: 'ttl', label: 'TTL', kind: 'choice', options: TTL_PRESETS, hint: '←/→ choose' },
          { name: 'customTtl', label: 'Custom TTL', kind: 'text', placeholder: '1h30m', hint: 'e.g. 12h, 45d, 2w' },
          { name: 'description', label: 'Description', kind: 'text' },
        ]}
        initial={subject ? { subject } : {}}
        visible={(f, v) => f.name !== 'customTtl' || v.ttl === 'custom'}
        onSubmit={async (v: Values) => {
          const ttl = v.ttl === 'custom' ? v.customTtl!.trim() : v.ttl === 'never' ? undefined : v.ttl;
          if (v.ttl === 'custom' && !(parseDuration(ttl ?? '') ?? 0)) return `custom TTL "${ttl}" is not a duration: use e.g. 12h, 45d or 1h30m`;
          const policies = v.policies!.split(',').map((s) => s.trim()).filter(Boolean);
          try {
            const created = await conn.client.createToken({
              ...(v.name!.trim() ? { name: v.name!.trim() } : {}),
              ...(v.subject!.trim() ? { subjectName: v.subject!.trim() } : {}),
              ...(policies.length ? { policies } : {}),
              ...(ttl ? { ttl } : {}),
              ...(v.description!.trim() ? { description: v.description!.trim() } : {}),
            });
            setMode({ kind: 'secret', title: `Token ${created.token.name} (${created.token.id}) for ${created.token.subjectType} ${created.token.subjectName}`, secret: created.secret, file: `${created.token.name}.token` });
          } catch (e) {
            return describeError(e);
          }
        }}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  if (mode.kind === 'edit') {
    const t = mode.token;
    return (
      <Form
        title={`Edit token ${t.name} (owners may only shorten the TTL)`}
        fields={[
          { name: 'description', label: 'Description', kind: 'text' },
          { name: 'ttl', label: 'TTL', kind: 'text', placeholder: 'unchanged', hint: 'lifetime from creation, e.g. 24h; "never" removes it' },
        ]}
        initial={{ description: t.description }}
        onSubmit={async (v: Values) => {
          const ttl = v.ttl!.trim();
          if (ttl && ttl !== 'never' && !(parseDuration(ttl) ?? 0)) return `TTL "${ttl}" is not a duration: use e.g. 24h or 30d`;
          try {
            await conn.client.updateToken(t.id, { description: v.description!, ...(ttl ? { ttl: ttl === 'never' ? null : ttl } : {}) });
            done(`token ${t.name} updated`);
          } catch (e) {
            return describeError(e);
          }
        }}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  if (mode.kind === 'revoke') {
    const t = mode.token;
    return (
      <Confirm
        message={`Revoke token ${t.name} (${t.id}) of ${t.subjectType} ${t.subjectName}? Its next request is refused.`}
        action="Revoke"
        onConfirm={() => conn.client.revokeToken(t.id).then(() => done(`token ${t.name} revoked`), fail)}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  if (mode.kind === 'rotate') {
    const t = mode.token;
    return (
      <Confirm
        message={`Rotate token ${t.name} (${t.id}) of ${t.subjectType} ${t.subjectName}? It gets a new secret (same id, policies and expiry); next, choose how long the old one keeps working.`}
        action="Rotate"
        onConfirm={() => setMode({ kind: 'rotate-grace', token: t })}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  if (mode.kind === 'rotate-grace') {
    const t = mode.token;
    return (
      <Form
        title={`Rotate token ${t.name}: grace period of the old secret`}
        fields={[{ name: 'grace', label: 'Grace', kind: 'text', hint: 'e.g. 1h or 30m; 0 cuts over at once' }]}
        initial={{ grace: DEFAULT_ROTATION_GRACE }}
        onSubmit={async (v: Values) => {
          const grace = v.grace!.trim() || DEFAULT_ROTATION_GRACE;
          if (grace !== '0' && parseDuration(grace) === undefined) return `grace "${grace}" is not a duration: use e.g. 1h, 30m or 0`;
          try {
            const rotated = await conn.client.rotateToken(t.id, { grace });
            const old = rotated.graceUntil ? `the old secret works until ${rotated.graceUntil.replace(/\.\d+Z$/, 'Z')}` : 'the old secret no longer works';
            // This context keeps sending the old secret: say so, or it fails when the grace ends.
            const own = whoami?.token.id === t.id ? '. It is the token of this context: log in again with the new secret (rune login)' : '';
            setMode({ kind: 'secret', title: `New secret of token ${rotated.token.name} (${rotated.token.id}); ${old}${own}`, secret: rotated.secret, file: `${rotated.token.name}.token` });
          } catch (e) {
            return describeError(e);
          }
        }}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  if (mode.kind === 'revoke-all') {
    const { answer } = mode;
    const shown = answer.tokens.slice(0, PREVIEW_ROWS);
    return (
      <Box flexDirection="column">
        <Text bold wrap="truncate">
          Revoke {answer.count} live token(s) matching {answer.selector}
        </Text>
        {shown.map((t) => (
          <Text key={t.id} wrap="truncate">
            {'  '}
            {t.name} <Text dimColor={theme.dim}>({t.subjectType} {t.subjectName}, {t.lastUsedAt ? `used ${age(t.lastUsedAt)} ago` : 'never used'})</Text>
          </Text>
        ))}
        {answer.count > shown.length ? <Text dimColor={theme.dim}>{`  … and ${answer.count - shown.length} more`}</Text> : null}
        {answer.skipped.map((s) => (
          <Text key={s.token.id} dimColor={theme.dim} wrap="truncate">
            {`  skipped ${s.token.name}: ${s.reason}`}
          </Text>
        ))}
        <Confirm
          message={`Revoke these ${answer.count} token(s)? Their next request is refused.`}
          action="revoke them"
          typeToConfirm={String(answer.count)}
          typeReason="Revoking many tokens cannot be undone."
          onConfirm={() =>
            // expect: exactly what was previewed, or the daemon refuses and nothing changes.
            conn.client.revokeTokens({ selector: answer.selector, expect: answer.count }).then((r) => done(`revoked ${r.count} token(s) matching ${r.selector}`), fail)
          }
          onCancel={() => setMode({ kind: 'list' })}
          theme={theme}
        />
      </Box>
    );
  }
  const count = countText(pages.items.length, !!pages.next, pages.total, pages.totalCapped, !!table.filter.trim());
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        Tokens{subject ? ` of ${subject}` : ''}{stale !== undefined ? ` ${VIEWS[view]!.label} (stale)` : ''} <Text dimColor={theme.dim}>({count}{pages.loading ? ', loading…' : ''}) ! = expires within 7 days</Text>
      </Text>
      {pages.error ? <ErrorLine message={describeError(pages.error)} theme={theme} /> : table.render({ width, theme, emptyText: pages.loading ? 'loading…' : 'no tokens' })}
      <StatusLine status={status} theme={theme} />
    </Box>
  );
}
