import { Box, Text } from 'ink';
import React, { useEffect, useMemo, useState } from 'react';
import type { CheckAnswer, WhoCanAnswer } from '../../api/client.js';
import { describeError } from '../../format/errors.js';
import { describeRule } from '../../core/rbac.js';
import type { Column } from '../../components/DataTable.js';
import { Form, type Values } from '../../components/Form.js';
import { useTableView } from '../../hooks/useTableView.js';
import { PRIORITY, useActions } from '../../tui/input.js';
import { useScreen } from './types.js';

type WhoRow = WhoCanAnswer['subjects'][number];

/**
 * "Can S do VERB on RESOURCE in NAMESPACE?" — the deciding rule, or the closest miss; what-if with
 * the editor's draft. Tab turns the question round: "who can do this?", every subject that may,
 * the rule that grants it and its live tokens that carry it.
 */
export function CanIScreen() {
  const props = useScreen();
  const { conn, theme, setScopes, draft, whoami, canIQuery, setCanIQuery, width, height } = props;
  const [answer, setAnswer] = useState<(CheckAnswer & { draft?: string }) | undefined>();
  const [who, setWho] = useState<WhoCanAnswer | undefined>();
  const asked: Values = canIQuery ?? { subject: '', verb: '', resource: '', namespace: '', whatIf: 'off', mode: 'can' };
  const whoMode = asked.mode === 'who';
  // The form holds the keyboard only while asking, so the screen keys (1–8, :, q) work otherwise.
  const [asking, setAsking] = useState(false);
  const columns: Column<WhoRow>[] = useMemo(
    () => [
      { key: 'name', header: 'SUBJECT', width: 18, value: (s) => s.name },
      { key: 'type', header: 'TYPE', width: 8, value: (s) => s.type },
      // "1/2": one of its two live tokens carries the right; the other is narrowed to less.
      { key: 'tokens', header: 'TOKENS', width: 6, value: (s) => (s.tokens === undefined ? '-' : s.tokens === s.liveTokens ? String(s.tokens) : `${s.tokens}/${s.liveTokens}`), sortValue: (s) => s.tokens ?? -1 },
      { key: 'via', header: 'VIA', width: 'flex', value: (s) => `${s.via.policy} rule ${s.via.index + 1} (${describeRule(s.via.rule)})` },
    ],
    [],
  );
  const table = useTableView(who?.subjects ?? [], columns, Math.max(1, height - 4));
  const listing = whoMode && who !== undefined && !asking;
  useEffect(() => setScopes(asking ? ['form'] : listing ? ['global', 'can-i', 'list'] : ['global', 'can-i']), [asking, listing]);
  useActions(
    PRIORITY.screen,
    table.filtering
      ? {}
      : {
          'cani-check': () => setAsking(true),
          'cani-mode': () => setCanIQuery({ ...asked, mode: whoMode ? 'can' : 'who' }),
        },
    { active: !asking, ...(listing ? { fallback: table.onKey } : {}) },
  );
  const draftName = draft ? /^name:\s*(\S+)/m.exec(draft)?.[1] : undefined;
  const what = (v: Values) => `${v.verb} ${v.resource}${v.namespace ? ` in ${v.namespace}` : ''}`;

  const askWho = async (v: Values) => {
    setCanIQuery({ ...asked, ...v });
    if (!v.verb!.trim() || !v.resource!.trim()) return 'give a verb and a resource, e.g. delete services';
    try {
      setWho(await conn.client.whoCan({ verb: v.verb!.trim(), resource: v.resource!.trim(), ...(v.namespace!.trim() ? { namespace: v.namespace!.trim() } : {}) }));
      setAsking(false);
    } catch (e) {
      setWho(undefined);
      return describeError(e);
    }
  };
  const askCan = async (v: Values) => {
    setCanIQuery({ ...asked, ...v });
    if (!v.verb!.trim() || !v.resource!.trim()) return 'give a verb and a resource, e.g. delete services';
    try {
      const res = await conn.client.check({
        verb: v.verb!.trim(),
        resource: v.resource!.trim(),
        ...(v.subject!.trim() ? { subject: v.subject!.trim() } : {}),
        ...(v.namespace!.trim() ? { namespace: v.namespace!.trim() } : {}),
        ...(v.whatIf === 'on' && draft ? { policy: draft } : {}),
      });
      setAnswer(res);
      setAsking(false);
    } catch (e) {
      setAnswer(undefined);
      return describeError(e);
    }
  };

  const verbFields = [
    { name: 'verb', label: 'Verb', kind: 'text' as const, placeholder: 'get, list, create, delete, …' },
    { name: 'resource', label: 'Resource', kind: 'text' as const, placeholder: 'services, users, tokens, …' },
    { name: 'namespace', label: 'Namespace', kind: 'text' as const, placeholder: 'empty for cluster-scoped' },
  ];
  if (asking && whoMode) {
    return <Form key="who" title="Who can: every user and service account that may, and the rule that grants it" fields={verbFields} initial={asked} onSubmit={askWho} onCancel={() => setAsking(false)} theme={theme} />;
  }
  if (asking) {
    return (
      <Form
        key={draft ?? 'none'}
        title={`Can-I: ask about ${whoami?.subject.name ?? 'yourself'} (blank subject) or anyone you may inspect`}
        fields={[
          { name: 'subject', label: 'Subject', kind: 'text', placeholder: whoami?.subject.name ?? 'me' },
          ...verbFields,
          { name: 'whatIf', label: 'What-if', kind: 'choice', options: draft ? ['off', 'on'] : ['off'], hint: draft ? `with the editor's draft ${draftName ?? ''}` : 'open a policy in the editor to use it as a draft' },
        ]}
        initial={asked}
        onSubmit={askCan}
        onCancel={() => setAsking(false)}
        theme={theme}
      />
    );
  }
  if (whoMode) {
    return (
      <Box flexDirection="column">
        <Text bold wrap="truncate">
          Who can <Text dimColor={theme.dim}>Enter: ask {asked.verb ? what(asked) : 'who may do an action'} · Tab: can X do this?</Text>
        </Text>
        {who ? (
          <>
            <Text bold wrap="truncate">
              {who.subjects.length === 0 ? 'nobody' : `${who.subjects.length} subject${who.subjects.length === 1 ? '' : 's'}`} may {what({ verb: who.verb, resource: who.resource, namespace: who.namespace ?? '' })}
              {who.tokensCounted ? '' : <Text dimColor={theme.dim}> (token counts need "list" on tokens)</Text>}
            </Text>
            {table.render({ width, theme, emptyText: 'nobody' })}
          </>
        ) : null}
      </Box>
    );
  }

  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        Can-I <Text dimColor={theme.dim}>Enter: ask {asked.verb ? `about ${asked.subject || whoami?.subject.name || 'yourself'}: ${what(asked)}` : 'whether an action is allowed'}{draft ? ` · what-if: ${draftName ?? 'draft'}` : ''} · Tab: who can?</Text>
      </Text>
      {answer ? (
        <Box flexDirection="column" paddingX={1}>
          <Text bold color={answer.allowed ? theme.ok : theme.danger}>
            {answer.allowed ? 'ALLOWED' : 'DENIED'} for {answer.subject.type} {answer.subject.name}
            {answer.draft ? ` (with ${answer.draft})` : ''}
          </Text>
          {answer.decidedBy ? (
            <Text>
              decided by <Text bold color={theme.accent}>{answer.decidedBy.policy}</Text> rule {answer.decidedBy.index + 1}:{' '}
              <Text inverse>{` ${describeRule(answer.decidedBy.rule)} `}</Text>
            </Text>
          ) : null}
          {!answer.allowed && answer.closest ? (
            <Box flexDirection="column">
              <Text>
                closest: <Text bold>{answer.closest.policy}</Text> rule {answer.closest.index + 1} ({describeRule(answer.closest.rule)})
              </Text>
              {answer.closest.differs.map((d) => (
                <Text key={d} color={theme.warn} wrap="wrap">{`  - ${d}`}</Text>
              ))}
            </Box>
          ) : null}
          <Text dimColor={theme.dim} wrap="wrap">{answer.reason}</Text>
        </Box>
      ) : null}
    </Box>
  );
}
