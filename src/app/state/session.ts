import { RuneClient } from '../../api/client.js';
import { ContextStore, resolveTarget, type Target } from '../../config/contexts.js';

/** What the TUI talks to: the same resolution as the CLI (context, RUNE_SERVER, RUNE_TOKEN). */
export interface Connection {
  target: Target;
  client: RuneClient;
}

export function connect(store: ContextStore, context: string | undefined, env: NodeJS.ProcessEnv = process.env): Connection {
  const target = resolveTarget(context ? { context } : {}, env, store);
  const client = new RuneClient({ server: target.server, ...(target.token ? { token: target.token } : {}), ...(target.caFile ? { caFile: target.caFile } : {}), timeoutMs: 10_000 });
  return { target, client };
}
