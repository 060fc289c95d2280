/**
 * OIDC trusts, the pure part: which claims a trust may bind, how a bound value matches, what the
 * linter warns about, and the CI snippets. Shared by runed, the CLI and the TUI wizard.
 */

/** Checked by runed itself (issuer, audience, lifetime, replay), so a trust never binds them as claims. */
export const RESERVED_CLAIMS = ['iss', 'aud', 'exp', 'nbf', 'iat', 'jti'] as const;

/** A claim name as CI platforms spell them: `sub`, `repository`, `job_workflow_ref`, `namespace_path`, … */
export const CLAIM_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

/** The claims that identify the workload exactly; a trust pinning neither lets in more than meant. */
export const PINNING_CLAIMS = ['sub', 'repository'] as const;

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export const hasGlob = (value: string) => /[*?]/.test(value);

/**
 * `*` is any run of characters, `?` one character (a UTF-16 unit); everything else is literal.
 * Never a backtracking regex: a pattern such as `*a*a*a*b` against a long presented claim would
 * take time exponential in its stars. Here a mismatch only moves back to just after the last `*`,
 * so the work is at most pattern length × value length.
 */
export function globMatches(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    const c = pattern[p];
    if (c === '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.length && (c === '?' || c === value[v])) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether a presented claim satisfies a bound value: exactly equal, or matching it when globs are allowed. */
export function claimMatches(bound: string, presented: unknown, allowGlob: boolean): boolean {
  if (typeof presented !== 'string') return false;
  return allowGlob && hasGlob(bound) ? globMatches(bound, presented) : presented === bound;
}

/** What a reviewer should know about a trust that is valid but lets in more than its name suggests. */
export function lintTrust(trust: { claims: Record<string, string>; allowGlob?: boolean }): string[] {
  const warnings: string[] = [];
  const exact = PINNING_CLAIMS.filter((c) => trust.claims[c] !== undefined && !(trust.allowGlob && hasGlob(trust.claims[c]!)));
  if (exact.length === 0) {
    warnings.push('the trust pins neither "repository" nor "sub" exactly: any workload of the issuer whose other claims match can exchange its token');
  }
  if (trust.allowGlob) {
    for (const [claim, value] of Object.entries(trust.claims)) {
      if (hasGlob(value)) warnings.push(`claim "${claim}" is a pattern ("${value}"): every value it matches is let in`);
    }
  }
  return warnings;
}

/** GitHub Actions' subject for a job: bound to its environment when it has one, else to its git ref. */
export function githubActionsClaims(input: { repository: string; ref?: string; environment?: string }): Record<string, string> {
  const claims: Record<string, string> = { repository: input.repository };
  if (input.environment) {
    claims.sub = `repo:${input.repository}:environment:${input.environment}`;
    claims.environment = input.environment;
  } else if (input.ref) {
    claims.sub = `repo:${input.repository}:ref:${input.ref}`;
    claims.ref = input.ref;
  }
  return claims;
}

export const SNIPPET_TARGETS = ['github-actions'] as const;
export type SnippetTarget = (typeof SNIPPET_TARGETS)[number];

/** A workflow fragment that asks for the job's ID token with the trust's audience and logs in with it. */
export function githubActionsSnippet(input: { trust: string; audience: string; server: string }): string {
  const audience = encodeURIComponent(input.audience);
  return `# The job may request an OIDC ID token; rune must be on the runner's PATH.
permissions:
  id-token: write
  contents: read

steps:
  - name: Log in to runed with the job's OIDC token (no stored secret)
    env:
      RUNE_SERVER: ${input.server}
    run: |
      curl -sSf -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \\
        "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=${audience}" | jq -r .value > "$RUNNER_TEMP/rune-oidc.jwt"
      rune login ci --server "$RUNE_SERVER" --oidc-trust ${input.trust} --oidc-token-file "$RUNNER_TEMP/rune-oidc.jwt"
      rm -f "$RUNNER_TEMP/rune-oidc.jwt"
`;
}
