/**
 * Shell completion of `berth machine` (and a `docker-machine` link): subcommands, then
 * machine names, read straight from the store directory (no berth process per <Tab>),
 * with NAME: for scp and mount. The store is found as berth finds it:
 * BERTH_STORAGE_PATH, MACHINE_STORAGE_PATH, ~/.berth/machine.
 */
const STORE = '${BERTH_STORAGE_PATH:-${MACHINE_STORAGE_PATH:-$HOME/.berth/machine}}';

/** Subcommands that take no machine name (create makes one). */
const NO_NAMES = ['create', 'import', 'help', 'completion'];
const COLON_NAMES = ['scp', 'mount'];

export type CompletionShell = 'bash' | 'zsh' | 'fish';

export function completionScript(shell: CompletionShell, subcommands: string[]): string {
  const subs = [...subcommands].sort().join(' ');
  if (shell === 'bash') return bash(subs);
  if (shell === 'zsh') return zsh(subs);
  return fish(subs);
}

function bash(subs: string): string {
  return `# berth machine completion (bash): eval "$(berth machine completion bash)"
_berth_machine_names() {
  local f
  for f in "${STORE}"/machines/*/config.json; do [ -f "$f" ] && { f=\${f%/config.json}; echo "\${f##*/}"; }; done
}
_berth_machine() {
  local cur=\${COMP_WORDS[COMP_CWORD]} i=1 sub=
  [ "\${COMP_WORDS[0]##*/}" = docker-machine ] || i=2
  for (( ; i < COMP_CWORD; i++ )); do
    case "\${COMP_WORDS[i]}" in
      -s|--storage-path) i=$((i+1)) ;;
      -*) ;;
      *) sub=\${COMP_WORDS[i]}; break ;;
    esac
  done
  if [ -z "$sub" ]; then COMPREPLY=( $(compgen -W "${subs}" -- "$cur") ); return; fi
  case " ${NO_NAMES.join(' ')} " in *" $sub "*) COMPREPLY=(); return ;; esac
  case " ${COLON_NAMES.join(' ')} " in
    *" $sub "*) compopt -o nospace 2>/dev/null; COMPREPLY=( $(compgen -W "$(_berth_machine_names | sed 's/$/:/')" -- "$cur") ) ;;
    *) COMPREPLY=( $(compgen -W "$(_berth_machine_names)" -- "$cur") ) ;;
  esac
}
_berth() {
  if [ "$COMP_CWORD" -ge 2 ] && [ "\${COMP_WORDS[1]}" = machine ]; then _berth_machine; return; fi
  [ "$COMP_CWORD" -eq 1 ] && COMPREPLY=( $(compgen -W "machine" -- "\${COMP_WORDS[1]}") )
}
complete -F _berth berth
complete -F _berth_machine docker-machine
`;
}

function zsh(subs: string): string {
  return `#compdef berth docker-machine
# berth machine completion (zsh): source <(berth machine completion zsh)  (after compinit)
_berth_machine_names() {
  local f
  for f in "${STORE}"/machines/*/config.json(N); do print -r -- \${f:h:t}; done
}
_berth() {
  local first=2 i sub
  [[ \${words[1]:t} == docker-machine ]] && first=1
  if [[ \${words[1]:t} != docker-machine ]]; then
    (( CURRENT == 2 )) && { compadd -- machine; return; }
    [[ \${words[2]} == machine ]] || return 1
  fi
  for (( i = first + 1; i < CURRENT; i++ )); do
    case \${words[i]} in
      -s|--storage-path) (( i++ )) ;;
      -*) ;;
      *) sub=\${words[i]}; break ;;
    esac
  done
  if [[ -z $sub ]]; then compadd -- ${subs}; return; fi
  case $sub in
    ${NO_NAMES.join('|')}) return 1 ;;
    ${COLON_NAMES.join('|')}) compadd -S '' -- \${^$(_berth_machine_names)}: ;;
    *) compadd -- $(_berth_machine_names) ;;
  esac
}
compdef _berth berth docker-machine
`;
}

function fish(subs: string): string {
  const named = `not __fish_seen_subcommand_from ${NO_NAMES.join(' ')} ${COLON_NAMES.join(' ')}`;
  return `# berth machine completion (fish): berth machine completion fish | source
function __berth_machine_names
  set -l store $BERTH_STORAGE_PATH
  test -n "$store"; or set store $MACHINE_STORAGE_PATH
  test -n "$store"; or set store $HOME/.berth/machine
  for f in $store/machines/*/config.json
    basename (dirname $f)
  end
end
function __berth_machine_sub_missing
  not __fish_seen_subcommand_from ${subs}
end
complete -c berth -f -n '__fish_seen_subcommand_from machine; and not __fish_seen_subcommand_from ${COLON_NAMES.join(' ')}'
complete -c docker-machine -f -n 'not __fish_seen_subcommand_from ${COLON_NAMES.join(' ')}'
complete -c berth -f -n '__fish_use_subcommand' -a machine
complete -c berth -f -n '__fish_seen_subcommand_from machine; and __berth_machine_sub_missing' -a '${subs}'
complete -c berth -f -n '__fish_seen_subcommand_from machine; and not __berth_machine_sub_missing; and ${named}' -a '(__berth_machine_names)'
complete -c berth -f -n '__fish_seen_subcommand_from machine; and __fish_seen_subcommand_from ${COLON_NAMES.join(' ')}' -a '(__berth_machine_names | string replace -r \\$ :)'
complete -c docker-machine -f -n '__berth_machine_sub_missing' -a '${subs}'
complete -c docker-machine -f -n 'not __berth_machine_sub_missing; and ${named}' -a '(__berth_machine_names)'
complete -c docker-machine -f -n '__fish_seen_subcommand_from ${COLON_NAMES.join(' ')}' -a '(__berth_machine_names | string replace -r \\$ :)'
`;
}
