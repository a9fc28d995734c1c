"""Settings: defaults, one TOML file, and CONVEYOR_<SECTION>__<KEY> overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from conveyor.config import Settings, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conveyor.toml"
    path.write_text(text)
    return path


def test_defaults_suit_the_embedded_shape() -> None:
    settings = load_settings(environ={})
    assert settings.server.listen == "127.0.0.1:5000"
    assert settings.server.external_url == ""
    assert settings.data_dir == Path(".conveyor")
    assert settings.auth.service == "conveyor"
    assert settings.auth.token_ttl_seconds >= 60
    assert settings.database.url == ""
    assert settings.storage.url == ""


def test_database_and_storage_default_inside_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'conveyor.db'}"
    assert settings.storage_url == f"file://{tmp_path / 'data' / 'blobs'}"


def test_relative_data_dir_is_made_absolute() -> None:
    settings = load_settings(environ={})
    assert settings.database_url.startswith("sqlite:////")
    assert settings.storage_url.startswith("file:///")


def test_explicit_urls_win_over_the_data_dir() -> None:
    settings = load_settings(
        environ={
            "CONVEYOR_DATABASE__URL": "postgresql://u:p@db/conveyor",
            "CONVEYOR_STORAGE__URL": "s3://bucket",
        }
    )
    assert settings.database_url == "postgresql://u:p@db/conveyor"
    assert settings.storage_url == "s3://bucket"


def test_toml_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'data_dir = "/srv/conveyor"\n'
        '[server]\nlisten = "0.0.0.0:8080"\nregion = "cn-hangzhou"\n'
        "[auth]\ntoken_ttl_seconds = 3600\n",
    )
    settings = load_settings(path, environ={})
    assert settings.data_dir == Path("/srv/conveyor")
    assert settings.server.listen == "0.0.0.0:8080"
    assert settings.server.region == "cn-hangzhou"
    assert settings.auth.token_ttl_seconds == 3600
    assert settings.database_url == "sqlite:////srv/conveyor/conveyor.db"


def test_environment_beats_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[server]\nlisten = "0.0.0.0:8080"\n[database]\nurl = "sqlite:///a.db"\n'
    )
    settings = load_settings(
        path,
        environ={
            "CONVEYOR_SERVER__LISTEN": "127.0.0.1:9999",
            "CONVEYOR_DATABASE__URL": "postgresql://conveyor:secret@db:5432/conveyor",
        },
    )
    assert settings.server.listen == "127.0.0.1:9999"
    assert settings.database.url == "postgresql://conveyor:secret@db:5432/conveyor"


def test_environment_values_are_coerced() -> None:
    settings = load_settings(
        environ={
            "CONVEYOR_AUTH__TOKEN_TTL_SECONDS": "120",
            "CONVEYOR_AUTH__CREATE_NAMESPACE_ON_PUSH": "false",
        }
    )
    assert settings.auth.token_ttl_seconds == 120
    assert settings.auth.create_namespace_on_push is False


def test_other_environment_variables_are_ignored() -> None:
    settings = load_settings(
        environ={"CONVEYOR_SERVER": "http://x", "CONVEYOR_ADMIN_PASSWORD": "p", "HOME": "/root"}
    )
    assert settings.server.listen == "127.0.0.1:5000"


def test_overrides_beat_the_environment() -> None:
    settings = load_settings(
        overrides={"server.listen": "10.0.0.1:5000"},
        environ={"CONVEYOR_SERVER__LISTEN": "127.0.0.1:9999"},
    )
    assert settings.server.listen == "10.0.0.1:5000"


def test_unknown_key_in_the_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        load_settings(write(tmp_path, "[server]\nlisen = '0.0.0.0:80'\n"), environ={})


def test_unknown_section_in_the_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        load_settings(write(tmp_path, "[servre]\nlisten = '0.0.0.0:80'\n"), environ={})


def test_unknown_key_in_the_environment_is_rejected() -> None:
    with pytest.raises(ValidationError):
        load_settings(environ={"CONVEYOR_SERVER__LISEN": "0.0.0.0:80"})


def test_out_of_range_value_is_rejected() -> None:
    with pytest.raises(ValidationError):
        load_settings(environ={"CONVEYOR_AUTH__TOKEN_TTL_SECONDS": "30"})


def test_scalar_in_place_of_a_section_is_a_validation_error_even_with_an_override(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValidationError):
        load_settings(write(tmp_path, 'server = "x"\n'), environ={"CONVEYOR_SERVER__LISTEN": "a"})
