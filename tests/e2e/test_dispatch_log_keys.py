"""One signing key per municipality, and key rotation: each municipality's checkpoints are
signed by the key named by its log's origin (the installation's key signs the others'); a new
key signs from its moment on, older checkpoints still verify with the older public key, and
`audit verify`, `check-proof` and `audit keys` say which key signed what. A checkpoint signed
with another municipality's key, or with a key after it was replaced, is refused. Private keys
come from files, environment variables or systemd credentials, never from config.toml."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reminders.adapters.crypto.signing_key import load_private_key, load_verifier_key
from reminders.config import KeySource, load_settings
from reminders.domain.checkpoint import (
    Checkpoint,
    KeyRing,
    VerifierKey,
    log_origin,
    parsed_checkpoint,
    signed_checkpoint,
)
from reminders.entrypoints.cli import main
from reminders.errors import ConfigError
from tests.e2e.test_print_volumes import RUN_DATE, registry_files

GENT, BRUSSELS, EUPEN = "44021", "21004", "63023"


def invoke(config: Path, database_url: str, *args: str, **env: str) -> Result:
    return CliRunner().invoke(
        main,
        [*args[:1], "--config", str(config), *args[1:]] if args[0] != "audit" else
        [args[0], args[1], "--config", str(config), *args[2:]],
        env={"REMINDERS_DATABASE_URL": database_url, **env},
    )  # fmt: skip


def with_keys(config: Path, nis_code: str, keys: str) -> None:
    text = config.read_text(encoding="utf-8")
    entry = f'nis_code = "{nis_code}"\n'
    if f"{entry}keys = " in text:
        start = text.index(f"{entry}keys = ") + len(entry)
        text = text[:start] + text[text.index("\n", start) + 1 :]
    config.write_text(text.replace(entry, f"{entry}keys = [ {keys} ]\n"), encoding="utf-8")


def key(number: str, *, start: datetime | None = None, private: str | None = None) -> str:
    moment = f", from = {start.isoformat()}" if start else ""
    source = private or f"var/keys/{number}.key"
    return f'{{ signing_key = "{source}", public_key = "var/keys/{number}.vkey"{moment} }}'


def imported(config: Path, database_url: str) -> None:
    persons, documents = registry_files()
    (config.parent / "persons.csv").write_text(persons, encoding="utf-8")
    (config.parent / "documents.csv").write_text(documents, encoding="utf-8")
    assert invoke(config, database_url, "init").exit_code == 0
    for kind in ("persons", "documents"):
        result = invoke(config, database_url, "import", kind, str(config.parent / f"{kind}.csv"))
        assert result.exit_code == 0, result.output


def checkpoints(config: Path, database_url: str, nis_code: str) -> list[Any]:
    """The log's stored checkpoints, newest last, as `audit checkpoint` cannot list them
    all: through the console-free store."""
    from reminders.adapters.db.dispatch_log_store import DispatchLogStore
    from reminders.adapters.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = DispatchLogStore(connection).checkpoints(nis_code)
            return [parsed_checkpoint(row.note) for row in rows]
    finally:
        engine.dispose()


def vkey(config: Path, number: str) -> VerifierKey:
    return load_verifier_key(config.parent / "var" / "keys" / f"{number}.vkey", "")


def test_two_municipalities_sign_with_their_own_keys(config_file: Path, database_url: str) -> None:
    with_keys(config_file, GENT, key("gent"))
    with_keys(config_file, BRUSSELS, key("brussels"))
    imported(config_file, database_url)
    result = invoke(config_file, database_url, "run", "--date", RUN_DATE, "--json")
    assert result.exit_code == 0, result.output
    gent, brussels = vkey(config_file, "gent"), vkey(config_file, "brussels")
    assert (gent.name, brussels.name) == (log_origin(GENT), log_origin(BRUSSELS))
    (gent_signed,) = checkpoints(config_file, database_url, GENT)
    (brussels_signed,) = checkpoints(config_file, database_url, BRUSSELS)
    (eupen_signed,) = checkpoints(config_file, database_url, EUPEN)
    assert (gent_signed.key_name, gent_signed.key_id) == (gent.name, gent.key_id)
    assert (brussels_signed.key_name, brussels_signed.key_id) == (brussels.name, brussels.key_id)
    assert eupen_signed.key_name == "reminders"  # no key of its own: the installation's

    verified = invoke(config_file, database_url, "audit", "verify", "--json")
    assert verified.exit_code == 0, verified.output
    logs = {log["municipality_nis"]: log for log in json.loads(verified.output)["logs"]}
    assert list(logs[GENT]["signed_by"]) == [gent.label]
    assert list(logs[BRUSSELS]["signed_by"]) == [brussels.label]
    text = invoke(config_file, database_url, "audit", "verify").output
    assert f"Signed by {gent.label}: 1 checkpoint" in text

    listed = invoke(config_file, database_url, "audit", "keys")
    assert listed.exit_code == 0, listed.output
    assert f"{gent.label}  key 1 of 1, signs now" in listed.output
    assert f"verifier key: {gent.vkey()}" in listed.output
    assert "the installation's key, signs now" in listed.output  # Eupen's


def test_a_checkpoint_presented_with_the_wrong_municipalitys_key_is_refused(
    config_file: Path, database_url: str, tmp_path: Path
) -> None:
    """Gent's letter proven with Brussels' key alone: invalid. A Brussels checkpoint signed
    with Gent's private key (under Gent's name, so that its key id matches Gent's public key)
    is refused even though that key is among the auditor's keys."""
    with_keys(config_file, GENT, key("gent"))
    with_keys(config_file, BRUSSELS, key("brussels"))
    imported(config_file, database_url)
    assert invoke(config_file, database_url, "run", "--date", RUN_DATE).exit_code == 0
    export = invoke(config_file, database_url, "audit", "export", "--municipality", GENT,
                    "--format", "jsonl")  # fmt: skip
    reference = next(
        row["reference"]
        for row in map(json.loads, export.output.splitlines())
        if row["event"] == "letter"
    )
    proof = tmp_path / "proof.json"
    proved = invoke(config_file, database_url, "audit", "prove", "--letter", reference,
                    "--out", str(proof))  # fmt: skip
    assert proved.exit_code == 0, proved.output
    keys = config_file.parent / "var" / "keys"
    wrong = CliRunner().invoke(
        main, ["audit", "check-proof", str(proof), "--public-key", str(keys / "brussels.vkey")]
    )
    assert wrong.exit_code == 1, wrong.output
    assert "none of the public keys given" in wrong.output
    right = CliRunner().invoke(
        main, ["audit", "check-proof", str(proof), "--public-key", str(keys / "brussels.vkey"),
               "--public-key", str(keys / "gent.vkey")],
    )  # fmt: skip
    assert right.exit_code == 0, right.output
    assert f"by {vkey(config_file, 'gent').label}" in right.output

    (honest,) = checkpoints(config_file, database_url, BRUSSELS)
    gent_private = load_private_key(KeySource(path=keys / "gent.key"))
    forged = signed_checkpoint(
        replace(honest.checkpoint, tree_size=honest.checkpoint.tree_size),
        gent_private,
        log_origin(GENT),
    )
    kept = tmp_path / "forged.txt"
    kept.write_text(forged.note(), encoding="utf-8")
    result = invoke(config_file, database_url, "audit", "verify", "--municipality", BRUSSELS,
                    "--checkpoint", str(kept))  # fmt: skip
    assert result.exit_code == 1, result.output
    refused = "has no valid signature: signed by the key of another municipality's log"
    assert refused in result.output
    ring = KeyRing((vkey(config_file, "gent"), vkey(config_file, "brussels")))
    assert ring.signer_of(forged) is None
    assert ring.signer_of(honest) == vkey(config_file, "brussels")


def test_a_rotation_in_the_middle_of_a_log(config_file: Path, database_url: str) -> None:
    """Gent's first key signs the first night; a second key takes over from a moment
    between the two nights (added to config.toml, made by `reminders init`); the whole log
    verifies with both public keys, each checkpoint by the key of its time; the new key
    alone does not verify the old checkpoints; the old key signing after its replacement is
    refused."""
    with_keys(config_file, GENT, key("gent-1"))
    imported(config_file, database_url)
    assert invoke(config_file, database_url, "run", "--date", RUN_DATE).exit_code == 0
    rotated_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    with_keys(config_file, GENT, f"{key('gent-1')}, {key('gent-2', start=rotated_at)}")
    made = invoke(config_file, database_url, "init")
    assert "Made the dispatch log's signing key of 44021" in made.output
    while datetime.now(UTC) < rotated_at:
        pass  # the second night's checkpoint is signed after the rotation's moment
    later = (datetime.fromisoformat(RUN_DATE) + timedelta(days=40)).date().isoformat()
    assert invoke(config_file, database_url, "run", "--date", later).exit_code == 0

    first, second = vkey(config_file, "gent-1"), vkey(config_file, "gent-2")
    signed = checkpoints(config_file, database_url, GENT)
    assert [s.key_id for s in signed] == [first.key_id, second.key_id]
    verified = invoke(config_file, database_url, "audit", "verify", "--json")
    assert verified.exit_code == 0, verified.output
    (gent,) = [
        log for log in json.loads(verified.output)["logs"] if log["municipality_nis"] == GENT
    ]
    sizes = [s.checkpoint.tree_size for s in signed]
    assert gent["signed_by"] == {first.label: sizes[:1], second.label: sizes[1:]}
    listed = invoke(config_file, database_url, "audit", "keys").output
    assert f"{first.label}  key 1 of 2, signed from the start until" in listed
    assert f"{second.label}  key 2 of 2, signs now" in listed

    new_only = invoke(config_file, database_url, "audit", "verify", "--municipality", GENT,
                      "--public-key", str(config_file.parent / "var/keys/gent-2.vkey"))  # fmt: skip
    assert new_only.exit_code == 1
    assert "none of the public keys given" in new_only.output

    stolen = load_private_key(KeySource(path=config_file.parent / "var/keys/gent-1.key"))
    late = signed_checkpoint(
        Checkpoint(GENT, sizes[1], signed[1].checkpoint.root_hash, datetime.now(UTC)),
        stolen,
        log_origin(GENT),
    )
    settings = load_settings(config_file, environ={})
    from reminders.bootstrap import key_ring

    ring = key_ring(settings)
    assert ring.signer_of(late) is None
    assert "after it was replaced" in ring.refusal(late)


def test_private_keys_come_from_the_environment_or_a_credential(
    config_file: Path, database_url: str, tmp_path: Path
) -> None:
    """Gent's key from an environment variable, Brussels' from a systemd credential; the run
    signs with them; a key missing there stops the run before anything is decided."""
    pem = {}
    for name in ("gent", "brussels"):
        private = Ed25519PrivateKey.generate()
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        pem[name] = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        public = VerifierKey(log_origin(GENT if name == "gent" else BRUSSELS), private.public_key())
        (config_file.parent / "var" / "keys").mkdir(parents=True, exist_ok=True)
        (config_file.parent / "var" / "keys" / f"{name}.vkey").write_text(public.vkey() + "\n")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "dispatch-log-21004").write_bytes(pem["brussels"])
    with_keys(config_file, GENT, key("gent", private="env:REMINDERS_KEY_44021"))
    with_keys(config_file, BRUSSELS, key("brussels", private="credential:dispatch-log-21004"))
    imported(config_file, database_url)
    missing = invoke(config_file, database_url, "run", "--date", RUN_DATE,
                     CREDENTIALS_DIRECTORY=str(credentials))  # fmt: skip
    assert missing.exit_code == 2, missing.output
    assert "environment variable REMINDERS_KEY_44021: is not set" in missing.output
    env = {"REMINDERS_KEY_44021": pem["gent"].decode(), "CREDENTIALS_DIRECTORY": str(credentials)}
    result = invoke(config_file, database_url, "run", "--date", RUN_DATE, **env)
    assert result.exit_code == 0, result.output
    assert (
        checkpoints(config_file, database_url, GENT)[0].key_id == vkey(config_file, "gent").key_id
    )
    assert invoke(config_file, database_url, "audit", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"-----BEGIN PRIVATE KEY-----MC4CAQAwBQYDK2VwBCIEI..."', "must never be in config.toml"),
        ('"env:"', "expected env:NAME"),
        ('"credential:../etc/shadow"', "expected credential:NAME"),
    ],
)
def test_a_private_key_is_never_read_from_config_toml(
    config_file: Path, value: str, message: str
) -> None:
    with_keys(config_file, GENT, f'{{ signing_key = {value}, public_key = "k.vkey" }}')
    with pytest.raises(ConfigError, match=r"municipalities\[0\]\.keys\[0\]\.signing_key") as caught:
        load_settings(config_file, environ={})
    assert message in str(caught.value)


def test_keys_after_the_first_need_their_moment_in_order(config_file: Path) -> None:
    start = datetime(2028, 1, 1, tzinfo=UTC)
    with_keys(config_file, GENT, f"{key('a')}, {key('b')}")
    with pytest.raises(ConfigError, match=r"keys\[1\]\.from: a key after the first needs"):
        load_settings(config_file, environ={})
    with_keys(config_file, GENT, f"{key('a', start=start)}, {key('b', start=start)}")
    with pytest.raises(ConfigError, match="oldest first"):
        load_settings(config_file, environ={})
