import { homedir } from 'node:os';
import { join } from 'node:path';

/** The light part of the config module: paths and errors, loadable without conf or yaml. */
export const DEFAULT_SERVER = 'localhost:7863';
export const runeHome = () => join(homedir(), '.rune');
export const configPath = (env: NodeJS.ProcessEnv = process.env) => env.RUNE_CONFIG || join(runeHome(), 'config.yaml');

export class ConfigError extends Error {}

const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export function checkContextName(name: string): void {
  if (!CONTEXT_NAME.test(name)) throw new ConfigError(`context name "${name}" must be letters, digits, "-", "_" or ".", at most 63`);
}
