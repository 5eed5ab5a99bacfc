#!/usr/bin/env bash
# A robust job script: stops at the first error, can be cancelled cleanly, and leaves
# nothing behind on the worker.
#
#   jobdeck add-job ./robust-job.sh data_1     # runs `wc data_1.txt` on a worker, writes data_1.out here
#
# jobdeck runs it here, on the scheduler's machine, with:
#   JOB_ID      unique for every run: names the job's temp dir on the worker
#   SLAVE_IP    the worker: an IP, a host name, user@host, or an alias from your ~/.ssh/config
# Optional, given with `jobdeck add-worker -e NAME=VALUE` (for every job on that worker)
# or `jobdeck add-job -e NAME=VALUE` (for one job):
#   JOB_COMMAND  what to run on the worker, given the input file as its last argument (default wc)
#   REMOTE_DIR   where on the worker the job's temp dir goes (default /tmp)
#   SSH_CONFIG   an ssh config file to use instead of ~/.ssh/config
#
# `jobdeck cancel` sends SIGTERM to the job's whole process group; this script then ends
# what it started here, makes sure the command on the worker is gone too, and cleans up.
set -euo pipefail

input=$1.txt
output=$1.out
host=$SLAVE_IP
command=${JOB_COMMAND:-wc}
remote=${REMOTE_DIR:-/tmp}/jobdeck-$JOB_ID

# Quotes a word for the remote shell.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# BatchMode: fail rather than ask for a password nobody would type; ConnectTimeout: a
# worker that vanished from the network fails the job in seconds, not minutes.
ssh=(ssh -o BatchMode=yes -o ConnectTimeout=10)
rsh='ssh -o BatchMode=yes -o ConnectTimeout=10'
if [[ -n ${SSH_CONFIG:-} ]]; then
	ssh+=(-F "$SSH_CONFIG")
	rsh+=" -F '$SSH_CONFIG'"
fi

[[ -f $input ]] || { echo "robust-job: no such file: $input" >&2; exit 2; }

# On any exit (success, error, cancel): remove the job's temp dir on the worker and the
# partial result here, keeping the exit status.
on_exit() {
	local status=$?
	trap - EXIT
	"${ssh[@]}" "$host" "rm -rf $(q "$remote")" </dev/null >/dev/null 2>&1 || true
	rm -f "$output.$JOB_ID.part"
	exit "$status"
}
trap on_exit EXIT

# On SIGTERM (jobdeck cancel), SIGINT (Ctrl-C) or SIGHUP: end everything this job started.
on_signal() {
	trap '' TERM INT HUP
	# Our whole process group: the ssh and rsync running now. (Under jobdeck the job is
	# alone in its group; by hand it is your shell's job for this script.)
	kill -TERM 0 2>/dev/null || true
	trap - TERM INT HUP
	echo "robust-job: cancelled; stopping the command on $host" >&2
	# The -tt below already hung up the remote command when its ssh died; this catches one
	# that ignores the hangup: its process group leader's pid is in the temp dir.
	"${ssh[@]}" "$host" "pid=\$(cat $(q "$remote/pid") 2>/dev/null) && kill -TERM -- -\$pid 2>/dev/null" </dev/null >/dev/null 2>&1 || true
	exit 143
}
trap on_signal TERM INT HUP

# 1. Prepare: a temp dir of this run's own on the worker (the first ssh: it fails with 255
#    when the worker cannot be reached), and the data in it.
"${ssh[@]}" "$host" "mkdir -p $(q "$remote")" </dev/null
rsync -a -e "$rsh" -- "$input" "$host:$remote/"

# 2. Run. -tt gives the command a terminal, so that it gets SIGHUP when this ssh dies; it
#    notes its pid (the leader of its process group there) for the cancel path above.
#    In the background with `wait`, so that a signal is handled at once, not when it ends.
"${ssh[@]}" -tt "$host" "cd $(q "$remote") && echo \$\$ > pid && $command $(q "$remote/$(basename "$input")") > result" </dev/null &
wait $!

# 3. Collect, under a temporary name until it is complete.
rsync -a -e "$rsh" -- "$host:$remote/result" "$output.$JOB_ID.part"
mv -- "$output.$JOB_ID.part" "$output"
