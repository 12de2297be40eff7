#!/usr/bin/env bash
# A migration cut into N shards run on worker machines with GNU parallel: shard I runs
# `mdsync batch backup --shard I/N` on worker I mod W, always the same one, beside its joblog.
set -euo pipefail

usage() {
  cat >&2 <<'USAGE'
usage: migrate.sh --workers FILE [--shards N] --users FILE --from TEMPLATE --to TEMPLATE
                  [--joblog-dir DIR] [-- MDSYNC_BATCH_OPTION...]

  --workers FILE    one worker a line, as GNU parallel's --sshlogin takes it: "host",
                    "admin@host" or a whole ssh command ("ssh -p 2222 -i ~/.ssh/migrate admin@host")
  --shards N        shards the user list is cut into (default: one per worker); shard I runs
                    on worker I mod W (W workers), the same worker every time for the same file
  --users FILE      the user list, at this path on every worker
  --from, --to      each user's two sides as a worker reaches them (%u user, %n before @, %d domain)
  --joblog-dir DIR  where a worker keeps each shard's joblog, shard-I-of-N.log (default: the
                    directory ssh starts in, the login's home)
  after --           more options of mdsync batch: --mkpath, --jobs 8, --bwlimit 20M ...

MDSYNC is how a worker starts mdsync (default: mdsync; words split at spaces).
Run the same command again to resume: each shard skips the users its joblog says are done.
USAGE
  exit 64
}

fail() {
  echo "migrate.sh: $1" >&2
  exit 64
}

# GNU parallel reads {...} in a command as its replacement strings and ::: as the start of its
# arguments, quoted or not: such a word would run another command line than the one asked for.
check_word() {
  case $1 in
    *'{'* | *'}'* | ':::' | ':::+' | '::::' | '::::+') fail "cannot pass \"$1\" through GNU parallel: { } and ::: are its own" ;;
  esac
}

workers_file='' shards='' users='' from='' to='' joblog_dir='.'
while (($# > 0)); do
  case $1 in
    --workers | --shards | --users | --from | --to | --joblog-dir)
      (($# >= 2)) || fail "$1 needs a value"
      case $1 in
        --workers) workers_file=$2 ;;
        --shards) shards=$2 ;;
        --users) users=$2 ;;
        --from) from=$2 ;;
        --to) to=$2 ;;
        --joblog-dir) joblog_dir=$2 ;;
      esac
      shift 2
      ;;
    --) shift; break ;;
    -h | --help) usage ;;
    *) fail "unknown option \"$1\" (mdsync's own options go after --)" ;;
  esac
done
[[ -n $workers_file && -n $users && -n $from && -n $to ]] || usage

workers=()
while IFS= read -r line || [[ -n $line ]]; do
  line=${line#"${line%%[![:space:]]*}"}
  line=${line%"${line##*[![:space:]]}"}
  [[ -z $line || $line == '#'* ]] && continue
  workers+=("$line")
done <"$workers_file"
((${#workers[@]} > 0)) || fail "$workers_file names no worker"

shards=${shards:-${#workers[@]}}
[[ $shards =~ ^[1-9][0-9]*$ ]] || fail "--shards takes a whole number above 0, not \"$shards\""
((shards >= ${#workers[@]})) || fail "$shards shards for ${#workers[@]} workers: $((${#workers[@]} - shards)) would have nothing to do"

read -r -a mdsync <<<"${MDSYNC:-mdsync}"
((${#mdsync[@]} > 0)) || fail 'MDSYNC is empty'
for word in "${mdsync[@]}" "$users" "$from" "$to" "$joblog_dir" "$@"; do check_word "$word"; done

# Worker I is in hostgroup wI, and shard S may run only in hostgroup w(S mod W): a shard never
# moves to another worker, so a second run finds its joblog. "1/" tells parallel the CPU count it
# would otherwise ask the worker's own parallel for; --jobs 1 runs one shard at a time per worker.
logins=()
for i in "${!workers[@]}"; do
  logins+=(--sshlogin "@w$i/1/${workers[i]//,/,,}")
done
shard_args=()
for ((s = 0; s < shards; s++)); do
  shard_args+=("$s@w$((s % ${#workers[@]}))")
done

# --quote: each word reaches the worker's shell as one argument, whatever it holds.
exec parallel --hostgroups --jobs 1 --line-buffer --tagstring "shard {}/$shards" "${logins[@]}" --quote \
  "${mdsync[@]}" batch backup --users "$users" --from "$from" --to "$to" \
  --shard "{}/$shards" --joblog "$joblog_dir/shard-{}-of-$shards.log" --resume "$@" \
  ::: "${shard_args[@]}"
