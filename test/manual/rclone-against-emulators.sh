#!/usr/bin/env bash
# Issue 20, acceptance: an independent client (rclone, Debian's package) run unchanged against the
# emulators under the real host names: a TLS front on 127.0.0.1:443 with a throw-away CA (given to
# rclone by SSL_CERT_FILE), the names pointed at 127.0.0.1 in /etc/hosts for the run only (the
# original file is put back on exit), tokens issued by the emulators. Not part of `npm test`: it
# needs root (port 443, /etc/hosts). Needs `npm run build` first.
#
#   sudo bash test/manual/rclone-against-emulators.sh [drive onedrive dropbox]
set -uo pipefail
cd "$(dirname "$0")/../.."
BACKENDS=("${@:-drive onedrive dropbox}")
read -r -a BACKENDS <<<"${BACKENDS[*]}"
W=$(mktemp -d /tmp/rclone-emu.XXXXXX)
PIDS=()
HOSTS_BACKUP="$W/hosts.orig"
cp /etc/hosts "$HOSTS_BACKUP"
cleanup() {
  cp "$HOSTS_BACKUP" /etc/hosts
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT

NAMES=(www.googleapis.com oauth2.googleapis.com accounts.google.com
  graph.microsoft.com login.microsoftonline.com api.onedrive.com public.dm.files.1drv.com
  api.dropboxapi.com content.dropboxapi.com notify.dropboxapi.com www.dropbox.com api.dropbox.com)

# --- certificates: a CA and one leaf for every name
SAN=$(printf 'DNS:%s,' "${NAMES[@]}")
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=emulator-ca \
  -keyout "$W/ca.key" -out "$W/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=emulators -keyout "$W/leaf.key" -out "$W/leaf.csr" 2>/dev/null
printf 'subjectAltName=%s\n' "${SAN%,}" >"$W/ext"
openssl x509 -req -in "$W/leaf.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
  -days 2 -extfile "$W/ext" -out "$W/leaf.pem" 2>/dev/null
cat /etc/ssl/certs/ca-certificates.crt "$W/ca.pem" >"$W/bundle.pem"

# --- emulators with the real names, and the front
node dist/emulators/run-emulators.js --real-hosts --ports 4821,4822,4823,4824 >"$W/emu.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 60); do grep -q '"kind":"icloud-photos"' "$W/emu.out" && break; sleep 0.5; done
ROUTES='{"www.googleapis.com":4821,"oauth2.googleapis.com":4821,"accounts.google.com":4821,
"graph.microsoft.com":4822,"login.microsoftonline.com":4822,"api.onedrive.com":4822,"public.dm.files.1drv.com":4822,
"api.dropboxapi.com":4823,"content.dropboxapi.com":4823,"notify.dropboxapi.com":4823,"www.dropbox.com":4823,"api.dropbox.com":4823}'
node test/manual/tls-front.js "$W/leaf.pem" "$W/leaf.key" "$(tr -d '\n' <<<"$ROUTES")" >"$W/front.out" 2>&1 &
PIDS+=($!)
printf '127.0.0.1 %s\n' "${NAMES[@]}" >>/etc/hosts
sleep 1

cred() { grep "\"kind\":\"$1\"" "$W/emu.out" | node -e "
  const j = JSON.parse(require('fs').readFileSync(0, 'utf8')).credentials;
  process.stdout.write(String(j['$2'] ?? ''));"; }
token() { # access, refresh, expiry
  printf '{"access_token":"%s","token_type":"Bearer","refresh_token":"%s","expiry":"%s"}' "$1" "$2" "$3"
}
SOON=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
cat >"$W/rclone.conf" <<CONF
[drive]
type = drive
client_id = $(cred google-drive clientId)
client_secret = $(cred google-drive clientSecret)
scope = drive
token = $(token "$(cred google-drive accessToken)" "$(cred google-drive refreshToken)" "$SOON")

[onedrive]
type = onedrive
client_id = $(cred onedrive clientId)
client_secret = $(cred onedrive clientSecret)
drive_id = $(cred onedrive driveId)
drive_type = personal
token = $(token "$(cred onedrive accessToken)" "$(cred onedrive refreshToken)" "$SOON")

[dropbox]
type = dropbox
client_id = $(cred dropbox clientId)
client_secret = $(cred dropbox clientSecret)
token = $(token "$(cred dropbox accessToken)" "$(cred dropbox refreshToken)" "$SOON")
CONF

# --- the files: small, unicode-named, 21 MB
mkdir -p "$W/up/sub"
echo "small file" >"$W/up/small.txt"
echo "unicode" >"$W/up/sub/Café ☕ – 日本語.txt"
head -c $((21 * 1024 * 1024)) /dev/urandom >"$W/up/big-21MB.bin"

export SSL_CERT_FILE="$W/bundle.pem" RCLONE_CONFIG="$W/rclone.conf"
R=(rclone --low-level-retries 2 --retries 1 --contimeout 5s --timeout 30s)
PASS=0 FAIL=0
step() { # name, command...
  local name=$1; shift
  if out=$("$@" 2>&1); then echo "PASS $name"; PASS=$((PASS + 1))
  else echo "FAIL $name"; echo "$out" | tail -5 | sed 's/^/     /'; FAIL=$((FAIL + 1)); fi
}
expire_token() { # remote: set its token expiry in the past, so rclone refreshes at its token URL
  node -e "
    const fs = require('fs'); const f = process.env.RCLONE_CONFIG; let s = fs.readFileSync(f, 'utf8');
    const re = new RegExp('(\\\\[$1\\\\][^\\\\[]*?token = )(\\\\{.*\\\\})');
    s = s.replace(re, (m, a, t) => { const j = JSON.parse(t); j.expiry = '2000-01-01T00:00:00Z'; return a + JSON.stringify(j); });
    fs.writeFileSync(f, s);"
}
for b in "${BACKENDS[@]}"; do
  echo "== $b"
  step "$b list from the root" "${R[@]}" lsf "$b:"
  step "$b upload small, unicode-named and 21 MB files" "${R[@]}" copy "$W/up" "$b:rclone-test"
  step "$b check (hashes)" "${R[@]}" check "$W/up" "$b:rclone-test"
  step "$b no-op re-copy" bash -c "${R[*]} copy -v '$W/up' '$b:rclone-test' 2>&1 | grep -q 'There was nothing to transfer'"
  rm -rf "$W/down"
  step "$b download" "${R[@]}" copy "$b:rclone-test" "$W/down"
  step "$b byte for byte" diff -r "$W/up" "$W/down"
  before=$(grep -A6 "^\[$b\]" "$RCLONE_CONFIG" | grep '^token')
  expire_token "$b"
  step "$b token refresh (listing with an expired token)" "${R[@]}" lsf "$b:rclone-test"
  step "$b token refresh (a new access token written back)" \
    bash -c "grep -A6 '^\[$b\]' '$RCLONE_CONFIG' | grep '^token' | grep -qv -F '${before:0:60}'"
  step "$b purge" "${R[@]}" purge "$b:rclone-test"
done
echo "passed $PASS, failed $FAIL"
