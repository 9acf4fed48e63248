# Streaming replication for the failover drill (sourced, after tests/pg/cluster.sh): a
# standby of a running throwaway primary made with pg_basebackup -R, synchronous
# replication to it, and its promotion. Runs as the postgres user when the tests run as
# root, like cluster.sh; clusters are stopped by PID with pg_cluster_down.

# pg_standby_init PRIMARY_PORT DIR NAME [postgresql.conf lines...]: a streaming standby
# of the primary on PRIMARY_PORT in DIR/data (not started), connecting with
# application_name NAME (what synchronous_standby_names names); sets PG_PORT to the
# standby's own free port.
pg_standby_init() {
	local primary=$1 dir=$2 name=$3 line
	shift 3
	mkdir -p "$dir" || return 1
	chmod 755 "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	# -R writes standby.signal and primary_conninfo (with application_name, since the
	# connection string names it); -X stream takes the WAL written meanwhile too.
	pg_as "$PG_BIN/pg_basebackup" -D "$dir/data" -R -X stream -c fast \
		-d "host=127.0.0.1 port=$primary user=postgres application_name=$name" \
		>"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; return 1; }
	PG_PORT=$(pg_free_port)
	# The copied postgresql.conf is the primary's: later lines override its port and
	# socket directory. A promoted standby waits for no standby of its own.
	{
		echo "port = $PG_PORT"
		echo "unix_socket_directories = '$dir'"
		echo "synchronous_standby_names = ''"
		echo "hot_standby = on"
		echo "wal_receiver_status_interval = 1s"
		for line in "$@"; do echo "$line"; done
	} | pg_as tee -a "$dir/data/postgresql.conf" >/dev/null
}

# pg_sync_replication PRIMARY_PORT NAME: make the standby called NAME synchronous
# (synchronous_standby_names, synchronous_commit=on), reload, and wait at most 30 s
# until pg_stat_replication shows it streaming in sync.
pg_sync_replication() {
	local primary=$1 name=$2 i state
	pg_psql "$primary" "ALTER SYSTEM SET synchronous_standby_names = '\"$name\"'" >/dev/null &&
		pg_psql "$primary" "ALTER SYSTEM SET synchronous_commit = 'on'" >/dev/null &&
		pg_psql "$primary" "SELECT pg_reload_conf()" >/dev/null || return 1
	for i in $(seq 1 300); do
		state=$(pg_psql "$primary" "SELECT state || '/' || sync_state FROM pg_stat_replication WHERE application_name = '$name'" 2>/dev/null)
		[ "$state" = streaming/sync ] && return 0
		sleep 0.1
	done
	echo "standby $name never became synchronous (last state: '${state:-none}')" >&2
	return 1
}

# pg_is_primary PORT: the server on PORT is up and out of recovery.
pg_is_primary() {
	[ "$(pg_psql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]
}

# pg_promote DIR PORT: promote the standby in DIR/data and wait at most 30 s until it
# accepts writes (a write transaction commits).
pg_promote() {
	local dir=$1 port=$2 i
	pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -w -t 30 promote >"$dir/promote.log" 2>&1 ||
		{ cat "$dir/promote.log" >&2; return 1; }
	for i in $(seq 1 300); do
		if pg_is_primary "$port" &&
			pg_psql "$port" "CREATE TEMP TABLE promoted_probe(x int); INSERT INTO promoted_probe VALUES (1)" \
				>/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "the promoted standby on port $port never accepted writes" >&2
	return 1
}
