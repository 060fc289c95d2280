import { Box, Text } from 'ink';
import React, { useState } from 'react';
import type { CreatedServiceAccount, RuneClient } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import { describeError } from '../format/errors.js';
import { parseDuration } from '../core/duration.js';
import { dnsLabelProblem } from '../core/names.js';
import { policyToYaml } from '../core/policy.js';
import { derivedPolicy, PERMISSION_NAMES, PERMISSIONS, type Permission } from '../core/serviceAccounts.js';
import { GITHUB_ACTIONS_ISSUER, githubActionsClaims, githubActionsSnippet, hasGlob } from '../core/trusts.js';
import { PRIORITY, useActions } from '../tui/input.js';
import type { Theme } from '../tui/theme.js';
import { TextFieldView, useTextField } from './TextField.js';

export const WIZARD_STEPS = ['Name', 'Namespace', 'Permissions', 'TTL', 'Description', 'Review'] as const;
/** The path without a stored secret: a trust for the CI job's OIDC token instead of a token. */
export const TRUST_STEPS = ['Name', 'Namespace', 'Permissions', 'Credential', 'CI job', 'Review'] as const;
const CREDENTIALS = ['token', 'CI trust (no stored secret)'] as const;
const BIND_TO = ['branch', 'environment'] as const;
const TRUST_FIELDS = 4;
const TTLS = ['24h', '30d', '90d', 'never', 'custom'] as const;
const CLUSTER = '(cluster-wide)';

export interface WizardValues {
  name: string;
  namespace: string;
  permissions: Permission[];
  ttl: (typeof TTLS)[number];
  customTtl: string;
  description: string;
  credential: (typeof CREDENTIALS)[number];
  bindTo: (typeof BIND_TO)[number];
}

/** Which step a daemon refusal belongs to, from the field it names. */
function stepOf(e: unknown): number {
  const field = e instanceof ApiError ? (e.details?.field as string | undefined) : undefined;
  if (field === 'name' || (e instanceof ApiError && e.code === 'already_exists')) return 0;
  if (field === 'namespace') return 1;
  if (field === 'permissions' || (e instanceof ApiError && e.code === 'permission_denied')) return 2;
  if (field === 'ttl') return 3;
  return 5;
}

/**
 * rune admin service create, as steps: name → namespace → permissions → TTL → description →
 * review (the derived policies exactly as they will be created) → create. Back and forward keep
 * what was entered; a step explains what is wrong before moving on; a refusal from the daemon
 * returns to the step at fault with its message.
 */
export function ServiceAccountWizard({
  client,
  namespaces,
  onCreated,
  onTrusted,
  onCancel,
  theme,
  height,
  limits,
}: {
  client: RuneClient;
  namespaces: string[];
  onCreated: (res: CreatedServiceAccount) => void;
  onTrusted: (summary: string) => void;
  onCancel: () => void;
  theme: Theme;
  height: number;
  /** The daemon's TTL settings (whoami): "never" becomes the default or the maximum when one is set. */
  limits?: { tokenMaxTtl?: string; tokenDefaultTtl?: string } | undefined;
}) {
  const [step, setStep] = useState(0);
  // The typed steps are text fields on the key stream; the rest changes only on keys that wait for a render.
  const nameField = useTextField('');
  const customTtlField = useTextField('');
  const descriptionField = useTextField('');
  // A namespace typed in the namespace step: one that does not exist yet is created before the account.
  const namespaceField = useTextField('');
  const [reviewTop, setReviewTop] = useState(0);
  const repoField = useTextField('');
  const refField = useTextField('');
  const audienceField = useTextField(client.baseUrl);
  const [picked, setPicked] = useState<Omit<WizardValues, 'name' | 'customTtl' | 'description'>>({ namespace: CLUSTER, permissions: ['cast'], ttl: '90d', credential: 'token', bindTo: 'branch' });
  const current = (): WizardValues => ({
    ...picked,
    ...(namespaceField.current().trim() ? { namespace: namespaceField.current().trim() } : {}),
    name: nameField.current(),
    customTtl: customTtlField.current(),
    description: descriptionField.current(),
  });
  const v = current();
  const [cursor, setCursor] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [trustFocus, setTrustFocus] = useState(0);
  // Set once the account exists, so a refused trust is retried without creating the account again.
  const [accountCreated, setAccountCreated] = useState(false);
  const [snippet, setSnippet] = useState<{ trust: string; text: string } | undefined>();
  const trustPath = v.credential !== 'token';
  const steps = trustPath ? TRUST_STEPS : WIZARD_STEPS;
  const nsOptions = [CLUSTER, ...namespaces];
  const set = (patch: Partial<typeof picked>) => setPicked((old) => ({ ...old, ...patch }));
  const go = (to: number) => {
    setError(undefined);
    setStep(to);
    if (to === 1) setCursor(Math.max(0, nsOptions.indexOf(v.namespace)));
    if (to === 2) setCursor(0);
    if (to === 5) setReviewTop(0);
  };
  /** What "never" turns into on this daemon (it would otherwise be capped silently). */
  const neverMeans = limits?.tokenDefaultTtl ?? limits?.tokenMaxTtl;
  const problem = (): string | undefined => {
    const v = current();
    if (step === 0) {
      const p = dnsLabelProblem(v.name);
      return p && `name ${p}`;
    }
    if (step === 1 && v.namespace !== CLUSTER) {
      const p = dnsLabelProblem(v.namespace);
      if (p) return `namespace ${p}`;
    }
    if (step === 2 && v.permissions.length === 0) return 'pick at least one permission (Space toggles)';
    if (step === 3 && v.credential === 'token' && v.ttl === 'custom' && !(parseDuration(v.customTtl) ?? 0)) return `"${v.customTtl}" is not a duration: use e.g. 12h, 45d or 1h30m`;
    if (step === 4 && v.credential !== 'token') {
      const repo = repoField.current().trim();
      const ref = refField.current().trim();
      if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) return 'repository must be OWNER/REPO, e.g. acme/api';
      if (ref === '') return `name the ${v.bindTo} the job runs for: a trust binds it exactly`;
      if (hasGlob(ref)) return `bind one exact ${v.bindTo}: patterns are not offered here (rune admin trust create --allow-glob)`;
      if (audienceField.current().trim() === '') return 'audience must not be empty';
    }
    return undefined;
  };
  const trustClaims = () => {
    const ref = refField.current().trim();
    return githubActionsClaims({ repository: repoField.current().trim(), ...(v.bindTo === 'branch' ? { ref: `refs/heads/${ref}` } : { environment: ref }) });
  };
  const createTrusted = async () => {
    const v = current();
    setBusy(true);
    setError(undefined);
    const audience = audienceField.current().trim();
    try {
      if (!accountCreated) {
        const res = await client.createServiceAccount({ name: v.name, permissions: v.permissions, ...(v.namespace !== CLUSTER ? { namespace: v.namespace } : {}), ttl: '1m', description: `CI trust: ${repoField.current().trim()}` });
        // The account's first token is not needed: the CI job exchanges its OIDC token instead.
        await client.revokeToken(res.token.id);
        setAccountCreated(true);
      }
      const trust = await client.createTrust({ name: `${v.name}-gha`, issuer: GITHUB_ACTIONS_ISSUER, audience, claims: trustClaims(), serviceAccount: v.name });
      setSnippet({ trust: trust.name, text: githubActionsSnippet({ trust: trust.name, audience, server: client.baseUrl.replace(/^http:\/\//, '') }) });
    } catch (e) {
      setStep(accountCreated || (e instanceof ApiError && String(e.details?.field ?? '').match(/^(claims|audience)/)) ? 4 : stepOf(e));
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const create = async () => {
    const v = current();
    setBusy(true);
    setError(undefined);
    const ttl = v.ttl === 'never' ? undefined : v.ttl === 'custom' ? v.customTtl : v.ttl;
    try {
      // As the CLI can: a new namespace is created first, so the account's rights apply at once.
      if (v.namespace !== CLUSTER && !namespaces.includes(v.namespace)) await client.createNamespace(v.namespace);
      const res = await client.createServiceAccount({
        name: v.name,
        permissions: v.permissions,
        ...(v.namespace !== CLUSTER ? { namespace: v.namespace } : {}),
        ...(ttl ? { ttl } : {}),
        ...(v.description ? { description: v.description } : {}),
      });
      onCreated(res);
    } catch (e) {
      setStep(stepOf(e));
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const moveCursor = (name: string) => {
    if (step === 5) {
      setReviewTop((t) => Math.max(0, t + (name === 'up' ? -1 : 1)));
      return;
    }
    if (step === 1) {
      namespaceField.set('');
      const next = Math.max(0, Math.min(nsOptions.length - 1, cursor + (name === 'up' ? -1 : 1)));
      setCursor(next);
      set({ namespace: nsOptions[next]! });
    } else if (step === 2) setCursor((c) => Math.max(0, Math.min(PERMISSION_NAMES.length - 1, c + (name === 'up' ? -1 : 1))));
    else if (step === 3) set({ credential: CREDENTIALS[(CREDENTIALS.indexOf(v.credential) + 1) % CREDENTIALS.length]! });
    else if (step === 4 && trustPath) setTrustFocus((f) => (f + (name === 'up' ? -1 : 1) + TRUST_FIELDS) % TRUST_FIELDS);
    else return false;
  };
  const trustFields = [repoField, undefined, refField, audienceField] as const;
  const field =
    step === 0 ? nameField
    : step === 1 ? namespaceField
    : step === 3 && !trustPath && v.ttl === 'custom' ? customTtlField
    : step === 4 ? (trustPath ? trustFields[trustFocus] : descriptionField)
    : undefined;
  useActions(
    PRIORITY.form,
    // While the daemon answers, keys are swallowed.
    busy ? {} : snippet ? {
      'wizard-back': () => onTrusted(`service account ${v.name} created with trust ${snippet.trust}: no secret to store`),
      'wizard-next': () => onTrusted(`service account ${v.name} created with trust ${snippet.trust}: no secret to store`),
    } : {
      'wizard-back': () => (step === 0 ? onCancel() : go(step - 1)),
      'wizard-next': () => {
        const p = problem();
        if (p) setError(p);
        else if (step === 5) void (trustPath ? createTrusted() : create());
        else go(step + 1);
      },
      'wizard-move': (key) => moveCursor(key.name),
      'wizard-toggle': () => {
        if (step !== 2) return false;
        const p = PERMISSION_NAMES[cursor]!;
        set({ permissions: v.permissions.includes(p) ? v.permissions.filter((x) => x !== p) : PERMISSION_NAMES.filter((x) => x === p || v.permissions.includes(x)) });
      },
      'wizard-ttl': (key) => {
        if (step === 4 && trustPath && trustFocus === 1) return set({ bindTo: v.bindTo === 'branch' ? 'environment' : 'branch' });
        if (step !== 3 || trustPath) return false;
        // Inside a typed custom TTL, ←/→ move the cursor; an empty field lets them choose a preset again.
        if (v.ttl === 'custom' && customTtlField.current() !== '') return false;
        const i = TTLS.indexOf(v.ttl);
        set({ ttl: TTLS[(i + (key.name === 'left' ? -1 : 1) + TTLS.length) % TTLS.length]! });
      },
    },
    { fallback: (name, _input, key) => (busy ? true : field?.onKey(name, key) || true) },
  );

  const trustReview = () => {
    const audience = audienceField.current().trim();
    return (
      <Box flexDirection="column">
        <Text>Creates trust {v.name}-gha: a GitHub Actions job gets a 15m token of {v.name} only if its OIDC token has exactly</Text>
        <Text color={theme.accent} wrap="truncate">{`  iss = ${GITHUB_ACTIONS_ISSUER}`}</Text>
        <Text color={theme.accent} wrap="truncate">{`  aud = ${audience}`}</Text>
        {Object.entries(trustClaims()).map(([k, value]) => (
          <Text key={k} color={theme.accent} wrap="truncate">{`  ${k} = ${value}`}</Text>
        ))}
        <Text dimColor={theme.dim}>No token is kept: the account's first token is revoked at once.</Text>
      </Box>
    );
  };

  if (snippet) {
    const lines = snippet.text.trimEnd().split('\n');
    const room = Math.max(3, height - 5);
    return (
      <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1}>
        <Text bold wrap="truncate">Service account {v.name} and trust {snippet.trust} created · add this step to the workflow (no secret to store):</Text>
        {lines.slice(0, room).map((l, i) => (
          <Text key={i} wrap="truncate">{l}</Text>
        ))}
        {lines.length > room ? <Text dimColor={theme.dim}>{`… ${lines.length - room} more lines: rune admin trust snippet ${snippet.trust} --for github-actions`}</Text> : null}
        <Text dimColor={theme.dim}>Enter done</Text>
      </Box>
    );
  }

  const review = () => {
    if (trustPath) return trustReview();
    if (v.namespace === CLUSTER) {
      return <Text>Attaches the built-in {v.permissions.map((p) => PERMISSIONS[p].policy).join(', ')} cluster-wide (no policy is created).</Text>;
    }
    const yaml = v.permissions.map((p) => policyToYaml(derivedPolicy(v.name, p, v.namespace))).join('---\n');
    const lines = yaml.trimEnd().split('\n');
    const room = Math.max(3, height - 10);
    // The whole policy can be read: ↑/↓ scroll it (it used to be cut with "… N more lines").
    const top = Math.min(reviewTop, Math.max(0, lines.length - room));
    return (
      <Box flexDirection="column">
        <Text>Creates {v.permissions.map((p) => `${v.name}-${p}`).join(', ')}:</Text>
        {lines.slice(top, top + room).map((l, i) => (
          <Text key={top + i} color={theme.accent} wrap="truncate">{`  ${l}`}</Text>
        ))}
        {lines.length > room ? <Text dimColor={theme.dim}>{`  lines ${top + 1}–${Math.min(lines.length, top + room)} of ${lines.length} · ↑/↓ scroll`}</Text> : null}
      </Box>
    );
  };

  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1}>
      <Text bold wrap="truncate">
        New service account · step {step + 1} of {steps.length}: {steps[step]}
        <Text dimColor={theme.dim}>{`  (${steps.join(' › ')})`}</Text>
      </Text>
      {step === 0 ? (
        <Box>
          <Text>Name: </Text>
          <TextFieldView state={nameField.state} placeholder="ci-stg" />
        </Box>
      ) : step === 1 ? (
        <Box flexDirection="column">
          <Text>Pin its permissions to a namespace (↑/↓), type a new one, or keep them cluster-wide:</Text>
          <Box>
            <Text>New: </Text>
            <TextFieldView state={namespaceField.state} focused={namespaceField.value !== ''} placeholder="type a name (created with the account)" />
          </Box>
          {nsOptions.slice(0, Math.max(3, height - 7)).map((ns) => (
            <Text key={ns} inverse={!namespaceField.value && ns === v.namespace}>{` ${ns} `}</Text>
          ))}
        </Box>
      ) : step === 2 ? (
        <Box flexDirection="column">
          <Text>Permissions (↑/↓ move, Space toggles):</Text>
          {PERMISSION_NAMES.map((p, i) => (
            <Text key={p} inverse={i === cursor} wrap="truncate">
              {v.permissions.includes(p) ? '[x] ' : '[ ] '}
              {p.padEnd(6)} <Text dimColor={theme.dim}>{PERMISSIONS[p].summary}</Text>
            </Text>
          ))}
        </Box>
      ) : step === 3 ? (
        <Box flexDirection="column">
          <Text>
            Credential (↑/↓): {CREDENTIALS.map((c) => (
              <Text key={c} inverse={c === v.credential}>{` ${c} `}</Text>
            ))}
          </Text>
          {trustPath ? (
            <Text dimColor={theme.dim}>The CI job exchanges its own OIDC token for a short-lived token: nothing is stored in CI.</Text>
          ) : (
          <Text>
            Token lifetime (←/→): {TTLS.map((t) => (
              <Text key={t} inverse={t === v.ttl}>{` ${t} `}</Text>
            ))}
          </Text>
          )}
          {!trustPath && v.ttl === 'custom' ? (
            <Box>
              <Text>Custom: </Text>
              <TextFieldView state={customTtlField.state} placeholder="45d" />
            </Box>
          ) : null}
          {v.ttl === 'never' && neverMeans ? (
            <Text color={theme.warn} wrap="wrap">
              This daemon gives every token a lifetime: "never" becomes {neverMeans}
              {limits?.tokenMaxTtl ? ` (maximum ${limits.tokenMaxTtl}, auth.tokenMaxTtl)` : ''}.
            </Text>
          ) : null}
        </Box>
      ) : step === 4 && trustPath ? (
        <Box flexDirection="column">
          <Text>GitHub Actions ({GITHUB_ACTIONS_ISSUER}) · ↑/↓ field{trustFocus === 1 ? ' · ←/→ branch or environment' : ''}</Text>
          <Box>
            <Text inverse={trustFocus === 0}>Repository: </Text>
            <TextFieldView state={repoField.state} placeholder="acme/api" />
          </Box>
          <Text>
            <Text inverse={trustFocus === 1}>Bind to: </Text>
            {BIND_TO.map((b) => (
              <Text key={b} bold={b === v.bindTo}>{b === v.bindTo ? `[${b}] ` : ` ${b}  `}</Text>
            ))}
          </Text>
          <Box>
            <Text inverse={trustFocus === 2}>{v.bindTo === 'branch' ? 'Branch: ' : 'Environment: '}</Text>
            <TextFieldView state={refField.state} placeholder={v.bindTo === 'branch' ? 'main' : 'stg'} />
          </Box>
          <Box>
            <Text inverse={trustFocus === 3}>Audience: </Text>
            <TextFieldView state={audienceField.state} />
          </Box>
        </Box>
      ) : step === 4 ? (
        <Box>
          <Text>Description: </Text>
          <TextFieldView state={descriptionField.state} placeholder="GitHub Actions deploys to stg" />
        </Box>
      ) : (
        <Box flexDirection="column">
          <Text>
            <Text bold>{v.name}</Text> · {v.namespace === CLUSTER ? 'cluster-wide' : `namespace ${v.namespace}`} · {v.permissions.join(', ')} ·{' '}
            {trustPath ? 'CI trust (no stored secret)' : `TTL ${v.ttl === 'custom' ? v.customTtl : v.ttl === 'never' && neverMeans ? `${neverMeans} ("never" is capped)` : v.ttl}`}
            {!trustPath && v.description ? ` · "${v.description}"` : ''}
          </Text>
          {review()}
        </Box>
      )}
      {error ? <Text color={theme.danger} wrap="wrap">{error}</Text> : null}
      <Text dimColor={theme.dim}>{busy ? 'creating…' : step === 5 ? 'Enter create · Esc back' : `Enter next · Esc ${step === 0 ? 'cancel' : 'back'}`}</Text>
    </Box>
  );
}
