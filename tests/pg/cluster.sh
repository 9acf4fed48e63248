# Throwaway PostgreSQL clusters for the tests (sourced): initdb and pg_ctl from Debian's
# postgresql-15 in a temporary directory, on a free loopback port, run as the postgres
# user when the tests run as root (initdb refuses root), stopped by PID.
: "${PG_BIN:=/usr/lib/postgresql/15/bin}"
: "${PYTHON3:=/usr/bin/python3}"

pg_available() { [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]; }

pg_free_port() {
	"$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# pg_as CMD...: run as the cluster's owner.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_cluster_init DIR [postgresql.conf lines...]: a new cluster in DIR/data (not started);
# sets PG_PORT. With PG_DURABLE=1 it keeps fsync on (the failover drill).
pg_cluster_init() {
	local dir=$1 line
	shift
	mkdir -p "$dir" || return 1
	chmod 755 "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	pg_as "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
	PG_PORT=$(pg_free_port)
	{
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $PG_PORT"
		echo "unix_socket_directories = '$dir'"
		echo "max_connections = 300"
		echo "shared_buffers = 64MB"
		if [ "${PG_DURABLE:-0}" != 1 ]; then
			echo "fsync = off"
			echo "full_page_writes = off"
		fi
		for line in "$@"; do echo "$line"; done
	} | pg_as tee -a "$dir/data/postgresql.conf" >/dev/null
}

# pg_cluster_up DIR: start the cluster in DIR/data and wait until it accepts connections;
# sets PG_PID.
pg_cluster_up() {
	local dir=$1
	pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1 ||
		{ tail -20 "$dir/server.log" >&2; return 1; }
	PG_PID=$(head -1 "$dir/data/postmaster.pid")
}

# pg_cluster_down PID [signal]: stop a postmaster (fast shutdown by default) and wait
# until it is gone.
pg_cluster_down() {
	local pid=$1 sig=${2:-INT} i
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null || return 0
	for i in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || return 0
		# Exited, waiting only for a slow reaper (the postmaster is not our child).
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
}

# pg_psql PORT SQL: one statement as the superuser; prints unaligned rows.
pg_psql() {
	psql -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d "${PG_DB:-postgres}" -c "$2"
}

# pg_start_throwaway [postgresql.conf lines...]: a started cluster in a new temp dir with one database "authd";
# sets PG_DIR, PG_PORT, PG_PID, PG_URL. Stop with pg_stop_throwaway.
pg_start_throwaway() {
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mcp-authd-pg.XXXXXX") || return 1
	pg_cluster_init "$PG_DIR" "$@" || return 1
	pg_cluster_up "$PG_DIR" || return 1
	pg_psql "$PG_PORT" "CREATE DATABASE authd" >/dev/null || return 1
	PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/authd"
}

pg_stop_throwaway() {
	pg_cluster_down "${PG_PID:-}"
	PG_PID=
	[ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
	PG_DIR=
}
