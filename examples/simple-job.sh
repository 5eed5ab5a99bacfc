#!/bin/bash
# The simplest job script: copy the data in, run the job on the worker, copy the result back.
#
#   jobdeck add-job ./simple-job.sh data_1     # processes data_1.txt on a worker, writes data_1.out here
#
# jobdeck runs it here, on the scheduler's machine, with JOB_ID (unique for every run) and
# SLAVE_IP (the worker's name: an IP, a host name or an alias from your ~/.ssh/config).
# Optional, given with `jobdeck add-worker -e NAME=VALUE` or `jobdeck add-job -e NAME=VALUE`:
#   REMOTE_DIR   the directory on the worker that files go to (default /tmp)
#   SSH_CONFIG   an ssh config file to use instead of ~/.ssh/config
#
# Try it by hand first:  SLAVE_IP=192.168.1.199 JOB_ID=test ./simple-job.sh data_1
set -e
name=$(basename "$1")
dir=${REMOTE_DIR:-/tmp}
ssh="ssh${SSH_CONFIG:+ -F $SSH_CONFIG}"

# Preparing the environment: copying the data to the worker.
rsync -a -e "$ssh" "$1.txt" "$SLAVE_IP:$dir/"
# Running the job there. -tt gives it a terminal, so that it ends when this ssh is killed.
$ssh -tt "$SLAVE_IP" "wc $dir/$name.txt > $dir/$JOB_ID.out"
# Collecting the result.
rsync -a -e "$ssh" "$SLAVE_IP:$dir/$JOB_ID.out" .
mv "$JOB_ID.out" "$1.out"
# Cleaning up the worker.
$ssh -tt "$SLAVE_IP" "rm -f $dir/$name.txt $dir/$JOB_ID.out"
