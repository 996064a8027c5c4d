# bash completion for skiff (install as /usr/share/bash-completion/completions/skiff)

_skiff_tasks() {
  local root=${SKIFF_ROOT:-/run/skiff} i
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ ${COMP_WORDS[i]} == --root ]] && root=${COMP_WORDS[i + 1]}
  done
  local d
  for d in "$root"/tasks/*/spec.json; do
    [ -e "$d" ] || continue
    d=${d%/spec.json}
    echo "${d##*/}"
    [ -f "$d/name" ] && cat "$d/name" && echo
  done 2>/dev/null
}

_skiff() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd="" i
  local commands="run validate ps inspect logs events stop kill rm wait exec stats gc"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
    --root | --cgroup-parent) ((i++)) ;;
    -*) ;;
    *) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done
  if [ -z "$cmd" ]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "--root --debug --cgroup-parent --help --version" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    fi
    return
  fi
  local opts=""
  case $cmd in
  run) opts="-d --detach --name -e --env --secret -c --container --timeout --pids-limit --init --retry --retry-on --prefix --no-prefix -q --quiet --events-file --result-file --allow-unknown-keys --help" ;;
  validate) opts="--print --help" ;;
  ps) opts="-a --all --format --help" ;;
  inspect) opts="--format --help" ;;
  logs) opts="-f --follow --since --tail -t --timestamps -c --container --help" ;;
  events) opts="-f --follow --format --help" ;;
  stop) opts="-t --timeout --help" ;;
  kill) opts="-s --signal --help" ;;
  rm) opts="-f --force --help" ;;
  exec) opts="-c --container -i --interactive -t --tty --help" ;;
  stats) opts="--no-stream --format --help" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ "$cmd" = run ] || [ "$cmd" = validate ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_skiff_tasks)" -- "$cur"))
  fi
}
complete -F _skiff skiff
