import type { Command } from 'commander';

interface Node {
  subcommands: string[];
  options: string[];
}

/** Walks the command tree: every command path with its subcommands and flags. */
function collect(cmd: Command, path: string[], out: Map<string, Node>, inherited: string[]): void {
  const options = [...inherited, ...cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))), '--help'];
  out.set(path.join(' '), { subcommands: cmd.commands.map((c) => c.name()), options: [...new Set(options)] });
  const global = path.length === 0 ? options.filter((o) => o !== '--help') : inherited;
  for (const sub of cmd.commands) collect(sub, [...path, sub.name()], out, global);
}

const contextNames = `$(rune context list -o json 2>/dev/null | sed -n 's/.*"name": "\\([^"]*\\)".*/\\1/p')`;

/** A bash completion script generated from the program itself, so it never drifts from the commands. */
export function bashCompletion(program: Command): string {
  const tree = new Map<string, Node>();
  collect(program, [], tree, []);
  const cases = (pick: (n: Node) => string[]) =>
    [...tree].map(([path, node]) => `    "${path}") echo "${pick(node).join(' ')}" ;;`).join('\n');
  return `# rune completion for bash. Load it with:  source <(rune completion bash)
_rune_subcommands() {
  case "$1" in
${cases((n) => n.subcommands)}
  esac
}
_rune_flags() {
  case "$1" in
${cases((n) => n.options)}
  esac
}
_rune_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case " $(_rune_subcommands "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  if [[ "$prev" == "--context" || "$path" == "use-context" || "$path" == "context delete" || "$path" == "logout" ]]; then
    COMPREPLY=( $(compgen -W "${contextNames}" -- "$cur") )
  elif [[ "$prev" == "-o" || "$prev" == "--output" ]]; then
    COMPREPLY=( $(compgen -W "table wide json yaml" -- "$cur") )
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$(_rune_flags "$path")" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$(_rune_subcommands "$path")" -- "$cur") )
  fi
}
complete -o default -F _rune_complete rune
`;
}

export function zshCompletion(program: Command): string {
  return `# rune completion for zsh. Load it with:  source <(rune completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').slice(1).join('\n')}`;
}
