# Shared by scripts/test and scripts/dev: install what koki needs on Debian, and run a
# throwaway PostgreSQL. Source it; it defines functions only.

KOKI_APT_PACKAGES="librdkafka-dev libpq-dev postgresql kcat python3-pip ca-certificates"
KOKI_NOIDA_VERSION="0.2.3"

koki_as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages and the pinned second broker if any is missing.
koki_install_prerequisites() {
    local missing=""
    for p in $KOKI_APT_PACKAGES; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "koki: installing$missing" >&2
        koki_as_root apt-get update -qq
        koki_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
    if ! command -v swift >/dev/null 2>&1; then
        echo "koki: swift is not on PATH (Swift 6.x is required; this machine kind ships it in /opt/swift)" >&2
        return 1
    fi
}

koki_install_noida() {
    if ! python3 -m pip show noida-db 2>/dev/null | grep -q "^Version: $KOKI_NOIDA_VERSION\$"; then
        echo "koki: installing noida-db==$KOKI_NOIDA_VERSION (the second, independent broker)" >&2
        python3 -m pip install -q "noida-db==$KOKI_NOIDA_VERSION" 2>&1 | grep -v "WARNING: Running pip as the 'root'" >&2 || true
    fi
    command -v noida-db >/dev/null 2>&1 || { echo "koki: noida-db did not install" >&2; return 1; }
}

koki_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

koki_wait_port() {  # host port seconds
    python3 - "$1" "$2" "$3" <<'PY'
import socket, sys, time
host, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.time() + limit
while time.time() < deadline:
    try:
        socket.create_connection((host, port), 0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# Starts PostgreSQL in a new temp dir on a free loopback port; sets KOKI_PG_DIR and
# KOKI_PG_URL. PostgreSQL refuses to run as root, so as root it runs as `postgres`.
koki_start_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$bin/initdb" ] || { echo "koki: PostgreSQL server binaries not found" >&2; return 1; }
    KOKI_PG_BIN=$bin
    KOKI_PG_DIR=$(mktemp -d /tmp/koki-pg.XXXXXX)
    KOKI_PG_PORT=$(koki_free_port)
    local run=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$KOKI_PG_DIR"
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$bin/initdb" -D "$KOKI_PG_DIR/data" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 >"$KOKI_PG_DIR/initdb.log" 2>&1 \
        || { cat "$KOKI_PG_DIR/initdb.log" >&2; return 1; }
    KOKI_PG_OPTS="-p $KOKI_PG_PORT -k $KOKI_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    "${run[@]}" "$bin/pg_ctl" -D "$KOKI_PG_DIR/data" -l "$KOKI_PG_DIR/log" -w -t 60 -o "$KOKI_PG_OPTS" start >/dev/null \
        || { cat "$KOKI_PG_DIR/log" >&2; return 1; }
    KOKI_PG_URL="postgresql://postgres@127.0.0.1:$KOKI_PG_PORT/postgres"
    export KOKI_PG_BIN KOKI_PG_DIR KOKI_PG_PORT KOKI_PG_URL KOKI_PG_OPTS
}

koki_stop_postgres() {
    [ -n "${KOKI_PG_DIR:-}" ] && [ -d "$KOKI_PG_DIR/data" ] || return 0
    local run=()
    [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
    "${run[@]}" "$KOKI_PG_BIN/pg_ctl" -D "$KOKI_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$KOKI_PG_DIR"
}

koki_wait_ready() {  # port seconds: until GET /readyz on 127.0.0.1:port answers 200
    python3 - "$1" "$2" <<'PY'
import sys, time, urllib.request
port, limit = sys.argv[1], float(sys.argv[2])
deadline = time.time() + limit
while time.time() < deadline:
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).status == 200: sys.exit(0)
    except Exception:
        pass
    time.sleep(0.3)
sys.exit(1)
PY
}
