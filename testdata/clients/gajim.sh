#!/usr/bin/env bash
# Gajim against the demo, under Xvfb: `make clients` runs this.
#
# Starts `make demo`'s setup (deploy/demo/demo.sh: a loopback Prosody and
# the gateway with its sandbox platform), adds the XMPP user gajim@localhost,
# and runs Gajim 1.7 (Debian's) with a profile of its own on a virtual X
# display. testdata/clients/gajim_driver.py takes Gajim through what a new
# user does — register with the gateway (service discovery's Register),
# link a sandbox phone (Execute command → Link account), accept the
# contacts, chat with the Echo Bot — and screenshots record what Gajim
# showed. Then Gajim's own log is checked.
#
# Run from the repository root:   bash testdata/clients/gajim.sh
#
# Environment:
#   CLIENTS_OUT=DIR    where screenshots, logs and results go (default clients-out/gajim)
#   CLIENTS_TIMEOUT=S  bound for each step Gajim waits for (default 30)
#
# Exit status 0 when every step passed, Gajim logged no "Unknown presence
# received" and no failed registration; otherwise 1 with the reasons.
set -euo pipefail

PY=/usr/bin/python3 # Debian's gajim lives here, not in a venv on PATH
OUT=${CLIENTS_OUT:-clients-out/gajim}
TIMEOUT=${CLIENTS_TIMEOUT:-30}
GW_DOMAIN=gw.localhost
ECHO_BOT="+15550000001@${GW_DOMAIN}"
PHONE="+15557650777"
GAJIM_USER=gajim
GAJIM_PASS=gajim-pw

say() { printf '==> %s\n' "$*"; }
die() { printf 'clients: %s\n' "$*" >&2; exit 1; }

[[ -f go.mod && -f deploy/demo/demo.sh ]] || die "run me from the repository root (bash testdata/clients/gajim.sh)"

# --- packages ------------------------------------------------------------------
need=(gajim xvfb imagemagick dbus)
missing=()
for pkg in "${need[@]}"; do
	dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
	if [[ $(id -u) -eq 0 ]]; then
		say "installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	else
		die "missing Debian packages: ${missing[*]}; install them with: sudo apt-get install -y ${need[*]}"
	fi
fi

# Gajim refuses to run as root: as root, run it (and its X server) as nobody.
as_user=()
if [[ $(id -u) -eq 0 ]]; then
	as_user=(runuser -u nobody --)
fi

rm -rf -- "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/drawbridge-gajim.XXXXXX")
mkdir -p "$WORK/home" "$WORK/out"
[[ ${#as_user[@]} -eq 0 ]] || chown -R nobody "$WORK"

DEMO_PID=
XVFB_PID=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in $XVFB_PID $DEMO_PID; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $XVFB_PID $DEMO_PID; do
		wait "$pid" 2>/dev/null || true
	done
	cp -r "$WORK/out/." "$OUT/" 2>/dev/null || true
	rm -rf -- "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_until SECONDS DESCRIPTION PID COMMAND...: poll COMMAND every 0.2 s while PID lives.
wait_until() {
	local secs=$1 what=$2 pid=$3
	shift 3
	local i
	for ((i = 0; i < secs * 5; i++)); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || die "$what: the process exited"
		sleep 0.2
	done
	die "$what: not within ${secs}s"
}

# --- the demo: Prosody and the gateway --------------------------------------------
say "starting the demo (deploy/demo/demo.sh); its output is in $OUT/demo.out"
DEMO_DIR=$WORK/demo bash deploy/demo/demo.sh >"$OUT/demo.out" 2>&1 &
DEMO_PID=$!
wait_until 180 "the demo" "$DEMO_PID" grep -q "Drawbridge is running" "$OUT/demo.out"
C2S_PORT=$(sed -n 's/.*client port \([0-9]*\).*/\1/p' "$OUT/demo.out" | head -n 1)
[[ -n $C2S_PORT ]] || die "no client port in $OUT/demo.out"
prosodyctl --config "$WORK/demo/prosody.cfg.lua" register "$GAJIM_USER" localhost "$GAJIM_PASS" >>"$OUT/demo.out" 2>&1 ||
	die "prosodyctl register $GAJIM_USER@localhost failed (see $OUT/demo.out)"

# --- Gajim's profile: one account, plaintext on loopback ---------------------------
CONFIG=$WORK/home/gajim-config
mkdir -p "$CONFIG"
"$PY" - "$CONFIG/settings.sqlite" "$GAJIM_USER" "$GAJIM_PASS" "$C2S_PORT" <<'EOF'
import json, sqlite3, sys
from gajim.common.settings import CREATE_SQL  # Gajim's own schema
path, user, password, port = sys.argv[1:]
con = sqlite3.connect(path)
con.executescript(CREATE_SQL)
app = {'use_keyring': False, 'show_help_start_chat': False, 'check_for_update': False,
       'show_main_window_on_startup': 'always', 'confirm_close_muc': False,
       'mainwin_width': 1280, 'mainwin_height': 800}
con.execute("UPDATE settings SET settings = ? WHERE name = 'app'", (json.dumps(app),))
account = {'name': user, 'hostname': 'localhost', 'password': password, 'resource': 'gajim',
           'active': True, 'autoconnect': True, 'savepass': True,
           'use_custom_host': True, 'custom_host': '127.0.0.1', 'custom_port': int(port),
           'custom_type': 'PLAIN', 'use_plain_connection': True,
           'confirm_unencrypted_connection': False, 'account_label': 'Drawbridge demo'}
con.execute('INSERT INTO account_settings(account, settings) VALUES(?, ?)',
            (user, json.dumps({'account': account, 'contact': {}, 'group_chat': {}})))
con.commit()
EOF
[[ ${#as_user[@]} -eq 0 ]] || chown -R nobody "$WORK"

# --- the X display and Gajim ----------------------------------------------------------
"${as_user[@]}" Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/display" 2>"$OUT/xvfb.log" &
XVFB_PID=$!
wait_until 20 "Xvfb" "$XVFB_PID" test -s "$WORK/display"
DISPLAY=:$(tr -d '\n' <"$WORK/display")

say "running Gajim on display $DISPLAY; its log is $OUT/gajim.log"
gajim_rc=0
"${as_user[@]}" env -i PATH="$PATH" HOME="$WORK/home" DISPLAY="$DISPLAY" LANG=C.UTF-8 \
	XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.local/share" \
	XDG_CACHE_HOME="$WORK/home/.cache" XDG_RUNTIME_DIR="$WORK/home" NO_AT_BRIDGE=1 \
	timeout $((TIMEOUT * 12)) dbus-run-session -- "$PY" testdata/clients/gajim_driver.py \
	--out "$WORK/out" --account "$GAJIM_USER" --gateway "$GW_DOMAIN" --phone "$PHONE" \
	--contact "$ECHO_BOT" --timeout "$TIMEOUT" \
	-c "$CONFIG" --verbose >"$OUT/gajim.log" 2>&1 || gajim_rc=$?
cp -r "$WORK/out/." "$OUT/"

# --- what Gajim showed and logged ---------------------------------------------------
problems=()
[[ $gajim_rc -eq 0 ]] || problems+=("Gajim exited with status $gajim_rc")
[[ $(cat "$OUT/status" 2>/dev/null) == 0 ]] || problems+=("a step failed (see $OUT/results.json)")
# Gajim logs "Unknown presence received" and then the stanza, for each
# presence from an address not in the roster.
unknown=$(grep -c "Unknown presence received" "$OUT/gajim.log" || true)
((unknown == 0)) || problems+=("Gajim logged \"Unknown presence received\" $unknown times, from: $(grep -A1 "Unknown presence received" "$OUT/gajim.log" | grep -o '<presence [^>]*from="[^"]*"' | sed 's/.*from="//; s/"$//' | sort | uniq -c | awk '{printf "%s (%d) ", $2, $1}')")
# nbxmpp logs a register response it cannot use as a warning of its
# module nbxmpp.m.register ("invalid register response").
reg_warnings=$(grep -c -E "\(W\) nbxmpp\.m\.register" "$OUT/gajim.log" || true)
((reg_warnings == 0)) || problems+=("Gajim's log has $reg_warnings registration warnings: $(grep -h -E "\(W\) nbxmpp\.m\.register" "$OUT/gajim.log" | sed 's/.*| *([^)]*) *//' | sort -u | tr '\n' ' ')")
echo
"$PY" - "$OUT/results.json" <<'EOF' || true
import json, sys
for r in json.load(open(sys.argv[1])):
    seen = {k: v for k, v in r.items() if k not in ('step', 'ok')}
    print(f"  {'ok    ' if r['ok'] else 'FAILED'} {r['step']}: {json.dumps(seen)[:400]}")
EOF
echo "  screenshots: $(cd "$OUT" && ls ./*.png 2>/dev/null | tr '\n' ' ')"
echo
if ((${#problems[@]})); then
	printf 'clients: Gajim: %s\n' "${problems[@]}" >&2
	exit 1
fi
say "Gajim: every step passed, no unknown presence, registration worked"
