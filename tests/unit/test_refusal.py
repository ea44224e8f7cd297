"""A refused request still helps: the body of every refusal is the assistant's reply with 999 and 101
(channels/refusal.py), for nginx (refused.json, deploy/nginx.conf.template) and for the Rasa server.

No servers: the requests themselves are in tests/e2e/test_refusals.py (the server) and
tests/e2e/test_bad_input.py (nginx in the cluster).
"""

import json
import re

from channels.refusal import REQUEST_MAX_BYTES, ROUTES, refusal_messages, refusal_reply
from channels.reply_guarantee import fallback_messages
from cluster.local import (
    DEFAULT_MAX_BODY,
    DEFAULT_WEBHOOK_MAX_BODY,
    REFUSAL_STATUSES,
    TEMPLATE,
    Cluster,
    size_bytes,
)
from core.catalogue import load_catalogue
from core.hours import current_time
from core.replies import render
from server import processes
from server.settings import environment

# What the issue names: rate limited, too large, no replica answering or too slow.
MUST_CARRY_THE_REPLY = {413, 429, 502, 503, 504}


def test_the_refusal_is_a_rest_reply_with_999_101_and_the_contact_page_from_the_catalogue():
    catalogue = load_catalogue()
    reply = refusal_reply()
    assert isinstance(reply, list) and len(reply) >= 2
    for message in reply:
        assert message["recipient_id"] == "" and isinstance(message["text"], str) and message["text"].strip()
    text = " ".join(message["text"] for message in reply)
    for channel in ("emergency_999", "phone_101", "contact_us"):
        assert catalogue.channels[channel].contact in text, channel
    assert "999" in text and "101" in text
    # Word for word the catalogue's routes: nothing written twice.
    expected = [message for route in ROUTES for message in render(catalogue, route, current_time())]
    assert [m["text"] for m in reply] == [m["text"] for m in expected]
    json.dumps(reply, allow_nan=False)  # it is served as it is


async def test_the_refusal_is_what_the_reply_guarantee_says_when_it_cannot_tell_danger():
    assert refusal_messages() == await fallback_messages("hello")


def test_refusal_reply_names_the_recipient_when_known():
    assert {message["recipient_id"] for message in refusal_reply("abc")} == {"abc"}


def test_nginx_sends_every_refusal_on_the_chat_endpoints_to_the_reply():
    template = TEMPLATE.read_text()
    statuses = {int(code) for code in REFUSAL_STATUSES.split()}
    assert MUST_CARRY_THE_REPLY <= statuses
    assert "error_page {{ refusal_statuses }} /_errors/refused.json;" in template
    # No other error_page sends one of those statuses elsewhere.
    for line in re.findall(r"^\s*error_page\s+([^;]+);", template, flags=re.M):
        *codes, target = line.split()
        if target != "/_errors/refused.json":
            assert not {int(code) for code in codes if code.isdigit()} & statuses, line


def test_the_cluster_writes_the_refusal_as_nginx_serves_it(tmp_path):
    made = Cluster(directory=tmp_path / "cluster", port=18000, rasa_ports=[18001], action_ports=[18002])
    made.write_static()
    errors = made.nginx_dir / "static" / "_errors"
    assert json.loads((errors / "refused.json").read_text()) == refusal_reply()
    assert sorted(path.name for path in errors.iterdir()) == ["404.json", "refused.json"]


def test_the_servers_body_limit_covers_what_nginx_lets_through_and_no_more_than_1_mib():
    env = processes.rasa_server(environment(RASA_PORT="5999")).env
    assert int(env["SANIC_REQUEST_MAX_SIZE"]) == REQUEST_MAX_BYTES == 1024 * 1024
    assert REQUEST_MAX_BYTES >= max(size_bytes(DEFAULT_MAX_BODY), size_bytes(DEFAULT_WEBHOOK_MAX_BODY))
    chosen = processes.rasa_server(environment(RASA_PORT="5999", SANIC_REQUEST_MAX_SIZE="2048")).env
    assert chosen["SANIC_REQUEST_MAX_SIZE"] == "2048"  # a setting of its own wins


def test_a_replica_reads_any_body_its_nginx_lets_through(tmp_path):
    made = Cluster(
        directory=tmp_path / "cluster", port=18000, rasa_ports=[18001], action_ports=[18002], webhook_max_body="4m"
    )
    assert int(made.replica_env(0)["SANIC_REQUEST_MAX_SIZE"]) == 4 * 1024 * 1024


def test_nginx_sizes_in_bytes():
    assert [size_bytes(size) for size in ("64k", "1m", "1M", "2048", "1g")] == [65536, 1048576, 1048576, 2048, 2**30]
