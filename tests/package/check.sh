#!/usr/bin/env bash
# The Debian packages as a user gets them (CI runs this after scripts/test.sh):
#   1. scripts/package.sh builds them; lintian finds no error in them;
#   2. dpkg -i installs them; the installed mnemo, its manual page, completion, unit and
#      service user are in place;
#   3. the installed server serves (as the service runs it: user mnemo, /etc/mnemo,
#      /var/lib/mnemo): health, a memory written and found over HTTP;
#   4. the README's library example builds against the installed files only, with
#      pkg-config and with find_package(mnemo), and runs;
#   5. dpkg --purge removes the packages and keeps the data.
# It installs packages system-wide: it needs root, and purges what it installed at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
[ "$(id -u)" -eq 0 ] || { echo "package check: needs root (dpkg -i)" >&2; exit 1; }
for p in mnemo libmnemo-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "package check: $p is already installed; remove it first (dpkg --purge $p)" >&2
    exit 1
  fi
done

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  dpkg --purge libmnemo-dev mnemo "${lib_package:-libmnemo}" >/dev/null 2>&1 || true
  rm -rf "$work" /var/lib/mnemo/spaces/check-space 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "package check: FAILED: $*" >&2; exit 1; }

echo "== 1. build the packages"
mapfile -t debs < <(scripts/package.sh)
[ "${#debs[@]}" -eq 3 ] || fail "expected 3 packages, got: ${debs[*]}"
for deb in "${debs[@]}"; do
  [ -f "$deb" ] || fail "$deb: no such file"
  echo "$deb"
  dpkg-deb --info "$deb" | grep -E "^ (Package|Version|Depends):"
done
lib_package="$(dpkg-deb -f "$(printf '%s\n' "${debs[@]}" | grep '/libmnemo[0-9]')" Package)"
echo "== lintian"
lintian --fail-on error --no-tag-display-limit "${debs[@]}" || fail "lintian reports errors"

echo "== 2. install"
dpkg -i "${debs[@]}"
version="$(/usr/bin/mnemo --version)"
[ "$version" = "mnemo $(dpkg-deb -f "${debs[0]}" Version)" ] || fail "mnemo --version says '$version'"
! readelf -S /usr/bin/mnemo | grep -qE '\.symtab|\.debug_' || fail "/usr/bin/mnemo is not stripped"
for f in /usr/share/man/man1/mnemo.1.gz /usr/share/bash-completion/completions/mnemo \
         /lib/systemd/system/mnemo.service /etc/mnemo/server.json /etc/mnemo/mnemo.env \
         /usr/include/mnemo/engine.h /usr/include/mnemo/version.h; do
  [ -f "$f" ] || fail "$f is not installed"
done
[ "$(stat -c %a /etc/mnemo/mnemo.env)" = 600 ] || fail "/etc/mnemo/mnemo.env is not 0600"
getent passwd mnemo >/dev/null || fail "no mnemo user"
[ "$(stat -c '%U %a' /var/lib/mnemo)" = "mnemo 700" ] || fail "/var/lib/mnemo is not mnemo's, 0700"
zcat /usr/share/man/man1/mnemo.1.gz | grep -q '^\.SS "mnemo search"' || fail "man page lacks search"
bash -c 'source /usr/share/bash-completion/completions/mnemo
         COMP_WORDS=(mnemo sea); COMP_CWORD=1; _mnemo; [ "${COMPREPLY[*]}" = search ]' ||
  fail "bash completion of 'mnemo sea' is not 'search'"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/mnemo.service || fail "systemd-analyze: mnemo.service"
fi

echo "== 3. the installed server, as the service runs it"
exec_start="$(sed -n 's/^ExecStart=//p' /lib/systemd/system/mnemo.service)"
# The unit's command line, word-split as systemd does, exec'd as its user (setpriv).
# shellcheck disable=SC2086
setpriv --reuid=mnemo --regid=mnemo --init-groups -- $exec_start --port 0 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$work/serve.out")"
[ -n "$url" ] || fail "the installed server did not start: $(cat "$work/serve.err")"
curl -sf "$url/healthz" | grep -q "\"version\":\"${version#mnemo }\"" || fail "/healthz"
json=(-H 'Content-Type: application/json')
curl -sf -X POST "$url/v1/spaces" "${json[@]}" -d '{"name": "check-space"}' >/dev/null ||
  fail "create a space"
curl -sf -X POST "$url/v1/spaces/check-space/memories" "${json[@]}" \
     -d '{"user": "maya", "text": "Maya is allergic to peanuts"}' >/dev/null || fail "add a memory"
curl -sf -X POST "$url/v1/spaces/check-space/search" "${json[@]}" \
     -d '{"user": "maya", "query": "peanut allergy"}' | grep -q "allergic to peanuts" ||
  fail "search the memory"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the server did not stop cleanly on SIGTERM"
server_pid=""
[ "$(stat -c %U /var/lib/mnemo/spaces/check-space)" = mnemo ] || fail "the space is not mnemo's"

echo "== 4. the README's library example against the installed files only"
python3 - "$root/README.md" "$work/example.cc" <<'PY'
import re, sys
readme = open(sys.argv[1]).read()
block = re.search(r"<!-- library-example -->\s*```cpp\n(.*?)```", readme, re.S)
assert block, "README.md has no library example"
open(sys.argv[2], "w").write(block.group(1))
PY
(cd "$work" && g++ -std=c++20 -o example-pc example.cc $(pkg-config --cflags --libs mnemo))
mkdir "$work/cmake-example"
cp "$work/example.cc" "$work/cmake-example/"
cat >"$work/cmake-example/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.22)
project(example CXX)
find_package(mnemo 0.1 REQUIRED)
add_executable(example example.cc)
target_link_libraries(example PRIVATE mnemo::mnemo)
CMAKE
cmake -S "$work/cmake-example" -B "$work/cmake-build" -G Ninja >/dev/null
ninja -C "$work/cmake-build" >/dev/null
for exe in "$work/example-pc" "$work/cmake-build/example"; do
  ldd "$exe" | grep -qE "libmnemo\.so\.[0-9.]+ => /(usr/)?lib/" || fail "$exe does not use the installed libmnemo"
  out="$(cd "$work" && rm -rf mem && "$exe")" || fail "$exe failed"
  [ "$out" = "Maya is allergic to peanuts" ] || fail "$exe printed '$out'"
done

# The library reports the version it is (mnemo::Version()), the headers theirs.
printf '#include <cstdio>\n#include "mnemo/version.h"\nint main() { std::printf("%%s %%s", MNEMO_VERSION, mnemo::Version()); }\n' >"$work/version.cc"
(cd "$work" && g++ -std=c++20 -o version version.cc $(pkg-config --cflags --libs mnemo))
[ "$("$work/version")" = "${version#mnemo } ${version#mnemo }" ] || fail "mnemo::Version() says '$("$work/version")'"

echo "== 5. purge"
dpkg --purge libmnemo-dev mnemo "$lib_package"
[ ! -e /usr/bin/mnemo ] && [ ! -e /etc/mnemo/server.json ] || fail "purge left files behind"
[ -d /var/lib/mnemo/spaces/check-space ] || fail "purge deleted the data in /var/lib/mnemo"
echo "package check: OK"
