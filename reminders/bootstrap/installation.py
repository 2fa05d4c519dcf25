"""`reminders init`: the database schema and the dispatch log's key of an installation, and
with a folder, the installation folder itself (config.toml, own templates, jobs), so that a
newcomer who installed the package has something that runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reminders.adapters.crypto.signing_key import create_key_pair
from reminders.adapters.db.schema import upgrade_schema
from reminders.adapters.private_files import OWNER_ONLY
from reminders.bootstrap import open_engine
from reminders.config import KeySource, Settings
from reminders.config.starter import STARTER_JOBS, StarterMunicipality, starter_config
from reminders.domain.checkpoint import log_origin
from reminders.errors import UsageError

OWN_TEMPLATES = "letters"  # the starter config's [letters] templates


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A signing key `reminders init` looked after: made now, or there already."""

    owner: str  # "the installation" or a NIS code
    private: str  # its source (a file, env:..., credential:...)
    public: Path
    made: bool
    in_file: bool  # False: read from an environment variable or credential, made elsewhere


@dataclass(frozen=True, slots=True)
class Initialised:
    """What `reminders init` did to the database and the keys."""

    revision_before: str | None
    revision_after: str
    keys: tuple[KeyPair, ...]


def initialise(settings: Settings) -> Initialised:
    """Create or upgrade the schema (migrations); make each signing key pair config.toml
    names as a file and that does not exist yet (the installation's, when a municipality
    uses it, and each municipality's own, a rotation's new key included). A key read from
    an environment variable or a credential is made elsewhere (a vault) and only listed."""
    engine = open_engine(settings.database_url, require_schema=False)
    try:
        before, after = upgrade_schema(engine)
    finally:
        engine.dispose()
    pairs: list[KeyPair] = []
    audit = settings.audit
    if any(not m.keys for m in settings.municipalities):
        pairs.append(_pair("the installation", audit.signing_key, audit.public_key, audit.key_name))
    for municipality in settings.municipalities:
        for key in municipality.keys:
            if key.signing_key is not None:
                name = log_origin(municipality.nis_code)
                pairs.append(_pair(municipality.nis_code, key.signing_key, key.public_key, name))
    return Initialised(before, after, tuple(pairs))


def _pair(owner: str, source: KeySource, public: Path, name: str) -> KeyPair:
    made = source.path is not None and create_key_pair(source.path, public, name)
    return KeyPair(owner, str(source), public, made, source.path is not None)


def refuse_existing(folder: Path) -> None:
    """An installation is never made over another (exit 2): before anything is asked."""
    config = folder / "config.toml"
    if config.exists():
        raise UsageError(f"{config}: already exists (an installation is there; nothing changed)")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")


def create_installation(folder: Path, municipality: StarterMunicipality) -> Path:
    """Write a new installation folder for one municipality; returns its config.toml. An
    existing config.toml is never replaced (exit 2); the folder may exist."""
    refuse_existing(folder)
    config = folder / "config.toml"
    OWNER_ONLY.make_folders(folder / OWN_TEMPLATES)
    jobs = folder / "jobs"
    OWNER_ONLY.make_folders(jobs)
    for name, text in STARTER_JOBS.items():
        if not (jobs / name).exists():
            OWNER_ONLY.write_text(jobs / name, text)
    OWNER_ONLY.write_text(config, starter_config(municipality))
    return config
