#!/usr/bin/env bash
# Installs the sidecar proxies the load bench compares against (Debian's
# haproxy and nginx), only when they are missing. The bench never uses the
# system services: it runs the binaries itself with generated configs.
# Exit status: 0 when both are present afterwards, 1 otherwise (the bench then
# prints "unavailable (reason)" for the rows of the missing proxy).
set -u

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
have haproxy || missing+=(haproxy)
have nginx || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: apt-get not found; cannot install ${missing[*]}" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "setup: not root and no passwordless sudo; cannot install ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# policy-rc.d stops Debian's maintainer scripts from starting the system
# services on install (we only want the binaries); removed again afterwards.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && made_policy=1
fi
trap '[ $made_policy -eq 1 ] && $sudo rm -f "$policy"' EXIT

echo "setup: installing ${missing[*]} with apt-get" >&2
$sudo apt-get update -qq >&2 || echo "setup: apt-get update failed" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || echo "setup: apt-get install failed" >&2

ok=0
for p in "${missing[@]}"; do have "$p" || { echo "setup: $p still missing" >&2; ok=1; }; done
exit $ok
