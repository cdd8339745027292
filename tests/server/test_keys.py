"""API keys: shown once, stored as hashes in a 0600 file, two live per agent, revocable."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import httpx
import pytest

from gatekeeper.server.keys import KeyStore
from tests.conftest import NOW, CliRun
from tests.server.conftest import NOW_TEXT, Served

KEY = re.compile(r"^gk_([0-9a-f]{12})_([0-9a-f]{40})$")


def keys_cli(run_cli: CliRun, keys_file: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli("--keys-file", str(keys_file), "--now", NOW_TEXT, "keys", *args)
    return result.exit_code, result.stdout, result.stderr


def test_add_prints_the_key_once_and_stores_only_its_hash(run_cli: CliRun, tmp_path: Path) -> None:
    keys_file = tmp_path / "ops" / "api_keys.json"
    code, out, err = keys_cli(run_cli, keys_file, "add", "helion", "--expires", "30")
    assert code == 0, err
    token = out.strip()
    match = KEY.match(token)
    assert match is not None, token
    secret = match.group(2)
    assert len(bytes.fromhex(secret)) * 8 >= 128
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    text = keys_file.read_text()
    assert secret not in text and token not in text
    (record,) = json.loads(text)["keys"]
    assert set(record) == {
        "key_id", "sha256", "agent", "created_at", "expires_at", "last_used_at", "revoked_at"
    }  # fmt: skip
    assert record["key_id"] == match.group(1)
    assert record["agent"] == "helion"
    assert record["expires_at"] == "2026-04-01T12:00:00Z"
    code, out, _ = keys_cli(run_cli, keys_file, "list", "--format", "json")
    assert code == 0
    assert secret not in out and "sha256" not in out
    assert json.loads(out)["keys"][0]["live"] is True


def test_two_live_keys_per_agent(run_cli: CliRun, tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.json"
    first = keys_cli(run_cli, keys_file, "add", "helion")[1].strip()
    assert keys_cli(run_cli, keys_file, "add", "helion")[0] == 0
    code, _, err = keys_cli(run_cli, keys_file, "add", "helion")
    assert code == 1
    assert "2 live keys" in err and "keys revoke" in err
    key_id = KEY.match(first).group(1)  # type: ignore[union-attr]
    assert keys_cli(run_cli, keys_file, "revoke", key_id)[0] == 0
    assert keys_cli(run_cli, keys_file, "add", "helion")[0] == 0
    assert keys_cli(run_cli, keys_file, "add", "sofiia")[0] == 0
    code, out, _ = keys_cli(run_cli, keys_file, "list")
    assert out.count("revoked") == 1 and out.count(" live ") == 3


def test_revoke_an_unknown_key_is_an_error(run_cli: CliRun, tmp_path: Path) -> None:
    code, _, err = keys_cli(run_cli, tmp_path / "k.json", "revoke", "0123456789ab")
    assert code == 1 and "no key" in err
    code, _, err = keys_cli(run_cli, tmp_path / "k.json", "revoke", "nope")
    assert code == 1 and "key id" in err


def test_authenticate_checks_secret_expiry_and_revocation(tmp_path: Path) -> None:
    from datetime import timedelta

    store = KeyStore(tmp_path / "k.json")
    new = store.add("sofiia", now=NOW, expires_days=1)
    assert store.authenticate(new.token, NOW) is not None
    key_id = new.record.key_id
    assert store.authenticate(f"gk_{key_id}_{'0' * 40}", NOW) is None
    assert store.authenticate(new.token, NOW + timedelta(days=2)) is None
    assert store.authenticate("not a key", NOW) is None
    store.revoke(key_id, now=NOW)
    assert KeyStore(tmp_path / "k.json").authenticate(new.token, NOW) is None


def test_last_use_is_recorded(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "k.json")
    new = store.add("sofiia", now=NOW)
    store.authenticate(new.token, NOW)
    (record,) = KeyStore(tmp_path / "k.json").records()
    assert record.last_used_at == "2026-03-02T12:00:00Z"
    assert stat.S_IMODE((tmp_path / "k.json").stat().st_mode) == 0o600


def test_a_revoked_key_stops_working_on_a_running_server(served: Served) -> None:
    body = {"action": "incident_list", "params": {}}
    store = KeyStore(served.keys_file)
    new = store.add("aistalk", now=NOW)
    headers = {"X-API-Key": new.token}
    url = f"{served.url}/v1/tools/oncall_tool"
    assert httpx.post(url, json=body, headers=headers).status_code == 200
    store.revoke(new.record.key_id, now=NOW)
    assert httpx.post(url, json=body, headers=headers).status_code == 401
    text = served.keys_file.read_text()
    assert all(token.split("_")[2] not in text for token in served.keys.values())
    assert stat.S_IMODE(served.keys_file.stat().st_mode) == 0o600


@pytest.mark.parametrize("token", ["", "gk_", "gk_zz_zz", "Bearer x", "gk_" + "a" * 12 + "_short"])
def test_malformed_keys_are_401(served: Served, token: str) -> None:
    response = httpx.post(
        f"{served.url}/v1/tools/oncall_tool", json={"action": "incident_list"},
        headers={"X-API-Key": token},
    )  # fmt: skip
    assert response.status_code == 401
