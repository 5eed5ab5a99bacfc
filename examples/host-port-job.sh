#!/usr/bin/env bash
# A job script for workers that are not plain host names: it understands every way
# jobdeck lets you name a worker, so that ssh and rsync reach it on the right port as
# the right user:
#
#   jobdeck add-worker alice@10.0.0.5:2222 bob@build-2 10.0.0.7:2200
#   jobdeck add-worker -e PORT=2222 -e USER=alice 10.0.0.8
#   jobdeck add-job ./host-port-job.sh data_1     # processes data_1.txt there, writes data_1.out here
#
# The user and port in the worker's name win over PORT and USER. USER is also your own
# login name in every environment, so it is passed on only when it differs from that
# (otherwise the User in your ~/.ssh/config, or your login name, applies as usual).
# Optional: REMOTE_DIR (default /tmp), SSH_CONFIG (an ssh config file instead of ~/.ssh/config).
set -euo pipefail

worker=${WORKER:-$SLAVE_IP}
if [[ ! $worker =~ ^(([^@:]+)@)?([^@:]+)(:([0-9]+))?$ ]]; then
	echo "host-port-job: cannot read worker name $worker as [user@]host[:port]" >&2
	exit 2
fi
user=${BASH_REMATCH[2]}
host=${BASH_REMATCH[3]}
port=${BASH_REMATCH[5]:-${PORT:-}}
if [[ -z $user && -n ${USER:-} && $USER != "$(id -un)" ]]; then user=$USER; fi

ssh=(ssh -o BatchMode=yes -o ConnectTimeout=10)
[[ -n ${SSH_CONFIG:-} ]] && ssh+=(-F "$SSH_CONFIG")
[[ -n $port ]] && ssh+=(-p "$port")
[[ -n $user ]] && ssh+=(-l "$user")
# rsync takes the ssh command as one string, and splits it at spaces (respecting quotes).
rsh=$(printf "'%s' " "${ssh[@]}")

name=$(basename "$1")
remote=${REMOTE_DIR:-/tmp}/jobdeck-$JOB_ID
trap '"${ssh[@]}" "$host" "rm -rf '\''$remote'\''" </dev/null >/dev/null 2>&1 || true' EXIT

"${ssh[@]}" "$host" "mkdir -p '$remote'" </dev/null
rsync -a -e "$rsh" -- "$1.txt" "$host:$remote/"
"${ssh[@]}" -tt "$host" "wc '$remote/$name.txt' > '$remote/$name.out'" </dev/null
rsync -a -e "$rsh" -- "$host:$remote/$name.out" "$1.out.$JOB_ID.part"
mv -- "$1.out.$JOB_ID.part" "$1.out"
