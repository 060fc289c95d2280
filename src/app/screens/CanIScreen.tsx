import { Box, Text } from 'ink';
import React, { useEffect, useState } from 'react';
import type { CheckAnswer } from '../../api/client.js';
import { describeError } from '../../format/errors.js';
import { describeRule } from '../../core/rbac.js';
import { Form, type Values } from '../../components/Form.js';
import { PRIORITY, useActions } from '../../tui/input.js';
import { useScreen } from './types.js';

/** "Can S do VERB on RESOURCE in NAMESPACE?" — the deciding rule, or the closest miss; what-if with the editor's draft. */
export function CanIScreen() {
  const props = useScreen();
  const { conn, theme, setScopes, draft, whoami, canIQuery, setCanIQuery } = props;
  const [answer, setAnswer] = useState<(CheckAnswer & { draft?: string }) | undefined>();
  const asked: Values = canIQuery ?? { subject: '', verb: '', resource: '', namespace: '', whatIf: 'off' };
  // The form holds the keyboard only while asking, so the screen keys (1–8, :, q) work otherwise.
  const [asking, setAsking] = useState(false);
  useEffect(() => setScopes(asking ? ['form'] : ['global', 'can-i']), [asking]);
  useActions(PRIORITY.screen, { 'cani-check': () => setAsking(true) }, { active: !asking });
  const draftName = draft ? /^name:\s*(\S+)/m.exec(draft)?.[1] : undefined;

  return (
    <Box flexDirection="column">
      {asking ? (
      <Form
        key={draft ?? 'none'}
        title={`Can-I: ask about ${whoami?.subject.name ?? 'yourself'} (blank subject) or anyone you may inspect`}
        fields={[
          { name: 'subject', label: 'Subject', kind: 'text', placeholder: whoami?.subject.name ?? 'me' },
          { name: 'verb', label: 'Verb', kind: 'text', placeholder: 'get, list, create, delete, …' },
          { name: 'resource', label: 'Resource', kind: 'text', placeholder: 'services, users, tokens, …' },
          { name: 'namespace', label: 'Namespace', kind: 'text', placeholder: 'empty for cluster-scoped' },
          { name: 'whatIf', label: 'What-if', kind: 'choice', options: draft ? ['off', 'on'] : ['off'], hint: draft ? `with the editor's draft ${draftName ?? ''}` : 'open a policy in the editor to use it as a draft' },
        ]}
        initial={asked}
        onSubmit={async (v) => {
          setCanIQuery(v);
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
        }}
        onCancel={() => setAsking(false)}
        theme={theme}
      />
      ) : (
        <Text bold wrap="truncate">
          Can-I <Text dimColor={theme.dim}>Enter: ask {asked.verb ? `about ${asked.subject || whoami?.subject.name || 'yourself'}: ${asked.verb} ${asked.resource}${asked.namespace ? ` in ${asked.namespace}` : ''}` : 'whether an action is allowed'}{draft ? ` · what-if: ${draftName ?? 'draft'}` : ''}</Text>
        </Text>
      )}
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
