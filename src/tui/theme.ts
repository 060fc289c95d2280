/** Colours, or none at all when NO_COLOR is set (https://no-color.org). */
export interface Theme {
  color: boolean;
  accent?: string;
  danger?: string;
  warn?: string;
  dim: boolean;
  ok?: string;
}

export function themeFor(env: NodeJS.ProcessEnv = process.env): Theme {
  const color = !('NO_COLOR' in env) || env.NO_COLOR === '';
  return color ? { color, accent: 'cyan', danger: 'red', warn: 'yellow', ok: 'green', dim: true } : { color, dim: false };
}
