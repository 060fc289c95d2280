import type { SubjectType, TokenKind } from '../../core/wire.js';
import { columnList } from './sql.js';

// A token as stored, in a module of its own: tokens.ts and tokenSelect.ts both read it, and
// neither imports the other's values.

export interface TokenRow {
  id: string;
  name: string;
  subject_id: string;
  subject_name: string;
  subject_type: SubjectType;
  policies: string;
  description: string;
  kind: TokenKind;
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
  enabled: number;
  revoked_at: number | null;
  last_used_at: number | null;
  /** The subject that disabled the token, while it is disabled. */
  disabled_by: string | null;
  /** The token whose holder minted this one, when one did. */
  created_by: string | null;
  /** The secret a rotation replaced, honoured until prev_secret_until. */
  prev_secret_hash: string | null;
  prev_secret_until: number | null;
}

/** Every column of a token row, named (see columnList); lists read fewer (LIST_NAMES). */
export const TOKEN_COLUMNS = columnList<TokenRow>({
  id: true,
  name: true,
  subject_id: true,
  subject_name: true,
  subject_type: true,
  policies: true,
  description: true,
  kind: true,
  secret_hash: true,
  created_at: true,
  expires_at: true,
  enabled: true,
  revoked_at: true,
  last_used_at: true,
  disabled_by: true,
  created_by: true,
  prev_secret_hash: true,
  prev_secret_until: true,
});
