#!/bin/sh
# A job that takes 50 ms: dispatch.mjs --command with it measures the time lost per job and slot.
exec sleep 0.05
