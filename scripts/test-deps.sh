#!/usr/bin/env bash
# The system tools the test suites run for real (nginx, the process table's pgrep).
# `npm test` runs this before anything else (pretest), and .ci/run runs `npm test`, so a
# bare machine and CI take the same path: as root with apt-get, the missing Debian
# packages are installed, saying which; otherwise one line names what to install, exit 1.
set -euo pipefail

# tool:Debian package
NEEDS=(nginx:nginx pgrep:procps getconf:libc-bin)

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

tools=() packages=()
for need in "${NEEDS[@]}"; do
  tool=${need%%:*} package=${need#*:}
  have "$tool" && continue
  tools+=("$tool")
  [[ " ${packages[*]} " == *" $package "* ]] || packages+=("$package")
done
[ ${#tools[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "npm test: installing ${packages[*]} from Debian's packages (apt-get install -y ${packages[*]}) for ${tools[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  exit 0
fi
echo "npm test needs ${tools[*]}, which this machine lacks: install first (Debian/Ubuntu: sudo apt-get install -y ${packages[*]}), then run npm test again" >&2
exit 1
