#!/usr/bin/env bash
# Raises or tears down one whole nginx scenario: the PM2 apps from ecosystem.config.cjs,
# then nginx with the matching file from nginx/.
#
#   scripts/scenario.sh up|down|status node-cluster|upstream
#
# nginx listens on 80 as the file says (run as root). NGINX_PORT=8088 runs a copy of the
# file with only its listen port changed, for a machine where 80 is taken or you are not
# root. PM2_HOME is honoured as PM2 always does.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/scenario.sh up|down|status node-cluster|upstream" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
case "$2" in
  node-cluster) apps=(api-8080 api-8081) conf=randoms-to-node-cluster.conf ;;
  upstream) apps=(api-8080 api-8082 api-8083 api-8084 api-8085) conf=randoms-to-upstream.conf ;;
  *) usage ;;
esac

pm2=node_modules/.bin/pm2
nginx=$(command -v nginx || echo /usr/sbin/nginx)
config="$PWD/nginx/$conf"
if [ -n "${NGINX_PORT:-}" ]; then
  config="${TMPDIR:-/tmp}/lbs-$NGINX_PORT-$conf"
  [ "$action" = up ] && sed -E "s/^([[:space:]]*)listen[[:space:]]+80([[:space:];])/\1listen 127.0.0.1:$NGINX_PORT\2/" "nginx/$conf" >"$config"
fi
port=${NGINX_PORT:-80}

case "$action" in
  up)
    npm run --silent build
    "$pm2" start ecosystem.config.cjs --only "$(IFS=,; echo "${apps[*]}")"
    "$nginx" -t -q -c "$config"
    "$nginx" -c "$config"
    echo "nginx ($conf) on port $port; try: curl -si http://127.0.0.1:$port/api/randoms?cant=1000 | grep -i x-served-by"
    ;;
  down)
    "$nginx" -s quit -c "$config" 2>/dev/null || echo "nginx ($conf) was not running"
    "$pm2" delete "${apps[@]}" >/dev/null 2>&1 || echo "PM2 apps were not running"
    echo "stopped ${apps[*]} and nginx ($conf)"
    ;;
  status)
    "$pm2" ls
    # PM2 retitles its processes (PROCESS_TITLE), so match the command line, not the name.
    pids=$(pgrep -d, -f 'dist/main.js|nginx: (master|worker)' || true)
    [ -n "$pids" ] && ps -o pid,ppid,rss,args --forest -p "$pids"
    true
    ;;
  *) usage ;;
esac
