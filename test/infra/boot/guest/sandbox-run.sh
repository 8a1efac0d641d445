#!/bin/bash
# Runs inside the sandbox (systemd-nspawn, no init): the user data, then the commands of /stub/after, one a line,
# each with its exit status recorded. Waits for the script's children (its log's tee) before the container ends.
bash /stub/user-data.sh
echo $? >/stub/user-data.rc
if [ -f /stub/after ]; then
  while read -r line; do
    bash -c "$line"
    printf '%s\t%s\n' "$?" "$line" >>/stub/after.rc
  done </stub/after
fi
for _ in $(seq 50); do
  others=0
  for p in /proc/[0-9]*; do [ "${p#/proc/}" = $$ ] || others=1; done
  [ $others = 0 ] && break
  /usr/bin/sleep 0.05
done
