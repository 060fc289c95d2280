import { defineConfig } from 'vitest/config';

/**
 * End-to-end suites that also run against PostgreSQL (the same tests; test/helpers/runed.ts gives
 * each runed a fresh database on one embedded PostgreSQL per file), so both engines keep the same
 * behaviour.
 */
export const POSTGRES_SUITES = [
  'test/e2e/tokens.test.ts',
  'test/e2e/authz.test.ts',
  'test/e2e/bootstrap.test.ts',
  'test/e2e/audit.test.ts',
  'test/e2e/audit-chain.test.ts',
  'test/e2e/serviceaccounts.test.ts',
  'test/e2e/registries.test.ts',
  'test/e2e/oidc.test.ts',
  'test/e2e/list-search.test.ts',
  'test/e2e/explain.test.ts',
  'test/e2e/escalation.test.ts',
  'test/e2e/attacks.test.ts',
  'test/e2e/durability.test.ts',
  'test/e2e/input.test.ts',
  'test/e2e/hardening.test.ts',
  'test/e2e/metrics.test.ts',
  'test/e2e/audit-follow.test.ts',
  'test/e2e/rotation.test.ts',
  'test/e2e/who-can.test.ts',
  'test/e2e/policy-impact.test.ts',
  'test/e2e/list-cache.test.ts',
  'test/e2e/fuzz.test.ts',
  'test/e2e/token-selectors.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The JSON report is what .ci/run counts passed and failed tests from.
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'] },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: POSTGRES_SUITES,
          env: { RUNE_TEST_STORE: 'postgres' },
          setupFiles: ['test/helpers/postgresProject.ts'],
        },
      },
    ],
  },
});
