"""PostgreSQL: what CloudNativePG's admission webhook and the barman-cloud plugin would refuse."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.rules._walk import (ONE_LINE, backup_method, clusters, config_parameters, located, needs_storage_size, pinned_version,
                                  reserved_owners, store_kind)

ID = "postgresql"

RESERVED_ROLES = {"postgres", "streaming_replica"}

# postgresql.conf: CloudNativePG quotes and escapes every value (pkg/configfile/configfile.go
# escapePostgresConfLiteral) but writes the name as given: a name is a GUC's, with an extension's
# prefix ("pg_stat_statements.max").  No setting's value holds a line break or a control character.
GUC = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\Z")
# pgbouncer.ini: CloudNativePG 1.30.0 writes "<name> = <value>" lines as given
# (pkg/management/pgbouncer/config/strings.go), and its webhook accepts these names only
# (internal/webhook/v1/pooler_webhook.go AllowedPgbouncerGenericConfigurationParameters).
PGBOUNCER_PARAMETERS = frozenset({
    "application_name_add_host", "auth_type", "autodb_idle_timeout", "cancel_wait_timeout", "client_idle_timeout",
    "client_login_timeout", "client_tls_ciphers", "client_tls_sslmode", "client_tls13_ciphers", "default_pool_size",
    "disable_pqexec", "dns_max_ttl", "dns_nxdomain_ttl", "idle_transaction_timeout", "ignore_startup_parameters",
    "listen_backlog", "log_connections", "log_disconnections", "log_pooler_errors", "log_stats", "max_client_conn",
    "max_db_connections", "max_packet_size", "max_prepared_statements", "max_user_connections", "min_pool_size",
    "pkt_buf", "query_timeout", "query_wait_timeout", "reserve_pool_size", "reserve_pool_timeout", "sbuf_loopcnt",
    "server_check_delay", "server_check_query", "server_connect_timeout", "server_fast_close", "server_idle_timeout",
    "server_lifetime", "server_login_retry", "server_reset_query", "server_reset_query_always", "server_round_robin",
    "server_tls_ciphers", "server_tls13_ciphers", "server_tls_protocols", "server_tls_sslmode", "stats_period",
    "suspend_timeout", "tcp_defer_accept", "tcp_socket_buffer", "tcp_keepalive", "tcp_keepcnt", "tcp_keepidle",
    "tcp_keepintvl", "tcp_user_timeout", "track_extra_parameters", "verbose",
})


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "postgresql"):
        yield from _cluster(spec, where, cluster)


def _cluster(spec: PMap, where: str, cluster: PMap) -> Iterator[Problem]:
    yield from needs_storage_size(where, cluster, "CloudNativePG")
    yield from pinned_version(where, cluster, "postgresql")
    yield from reserved_owners(where, cluster, RESERVED_ROLES,
                               "CloudNativePG reserves the {role!r} role; give the database an owner of its own")
    yield from config_parameters(where, cluster, ("parameters",), GUC, ONE_LINE, "postgresql.conf",
                                 "line breaks or control characters")
    yield from config_parameters(where, cluster, ("pooler", "parameters"), PGBOUNCER_PARAMETERS, ONE_LINE,
                                 "CloudNativePG's PgBouncer", "line breaks or control characters")
    mode, mark = located(cluster, "pooler", "mode")
    if mode == "statement":
        yield Problem(mark, f"{where}.pooler.mode: CloudNativePG's PgBouncer offers session and transaction pooling only")
    method, mark = backup_method(cluster, "native")
    store, store_mark = located(cluster, "backup", "store")
    if method == "dump":
        yield Problem(mark, f"{where}.backup.method: dump backups of a PostgreSQL cluster are not rendered yet; use native")
    elif method == "native":
        if store is None:
            yield Problem(store_mark, f"{where}.backup.store: a native backup needs a backup store (or set backup.method: none)")
        elif store_kind(spec, store) == "volume":
            yield Problem(store_mark, f"{where}.backup.store: the barman-cloud plugin writes to s3, gcs or azure, not to a volume store")
    restore, mark = located(cluster, "restore")
    if isinstance(restore, PMap):
        from_store, store_mark = located(restore, "fromStore")
        if isinstance(from_store, str) and store_kind(spec, from_store) == "volume":
            yield Problem(store_mark, f"{where}.restore.fromStore: the barman-cloud plugin restores from s3, gcs or azure, not from a volume store")
