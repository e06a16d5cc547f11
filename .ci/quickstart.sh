#!/usr/bin/env bash
# Runs the README's quickstart as a newcomer would: builds
# examples/quickstart, starts it, then runs the README's curl lines (those
# between the quickstart-curl markers) against it, checking that each line
# with a "# …" comment prints what the comment says.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(mktemp -d)"
go build -o "$bin/quickstart" ./examples/quickstart
port=$((20000 + RANDOM % 20000))
export AUTHX_SECRET="$(head -c 32 /dev/urandom | base64)"
ADDR="127.0.0.1:$port" "$bin/quickstart" 2>"$bin/log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	grep -q "listening on" "$bin/log" && curl -s "localhost:$port/" >/dev/null && break
	sleep 0.1
done
grep "listening on" "$bin/log"
lines="$(sed -n '/<!-- quickstart-curl -->/,/<!-- \/quickstart-curl -->/p' README.md | grep -E '^(TOKEN=|curl )')"
[ -n "$lines" ] || { echo "README has no quickstart curl lines"; exit 1; }
fail=0
while IFS= read -r line; do
	cmd="${line//localhost:8080/localhost:$port}"
	want=""
	if [[ "$cmd" == *" # "* ]]; then
		want="${cmd##* # }"
		cmd="${cmd% # *}"
	fi
	echo "\$ $line"
	if [[ "$cmd" == TOKEN=* ]]; then
		eval "$cmd" # sets TOKEN here, not in a subshell
		got=""
	else
		got="$(eval "$cmd" | tr -d '\r')"
	fi
	[ -n "$got" ] && echo "$got"
	if [ -n "$want" ] && [ "$got" != "$want" ]; then
		echo "want: $want"; fail=1
	fi
done <<<"$lines"
[ -n "${TOKEN:-}" ] || { echo "the login line set no TOKEN"; fail=1; }
exit $fail
