"""One validated configuration: unknown ASSISTANT_* variables and out-of-range values are one-line
errors naming the variable; secrets never appear in a repr or an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_an_unknown_variable_is_refused_with_the_closest_name(monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DRI", "/tmp/x")
    with pytest.raises(ValueError) as err:
        Settings.from_env()
    message = str(err.value)
    assert message == "ASSISTANT_INDEX_DRI: not a setting of this assistant; did you mean ASSISTANT_INDEX_DIR?"


@pytest.mark.parametrize("name, value, expected", [
    ("ASSISTANT_K", "0", "1 to 100"),
    ("ASSISTANT_DENSE_WEIGHT", "1.5", "a share from 0 to 1"),
    ("ASSISTANT_FUSION", "max", "'minmax' or 'rrf'"),
    ("ASSISTANT_ABSTAIN_THRESHOLD", "-0.1", "a probability from 0 to 1"),
    ("ASSISTANT_PORT", "70000", "a port from 1 to 65535"),
    ("ASSISTANT_CHUNK_OVERLAP", "5000", "less than the chunk size"),
    # a size below the default overlap names the size, the variable set (it had named the overlap, never set)
    ("ASSISTANT_CHUNK_SIZE", "100", "more than the chunk overlap (200, its default; set ASSISTANT_CHUNK_OVERLAP lower too)"),
    ("ASSISTANT_MAX_FILE_MB", "0", "a positive size in MiB"),
    ("ASSISTANT_CHUNK_SIZE", "big", "expected a whole number"),
    ("ASSISTANT_LLM_TIMEOUT", "inf", "expected a finite number"),  # "inf" overflowed the clock downstream
    ("ASSISTANT_BM25_K1", "inf", "expected a finite number"),
    ("ASSISTANT_LLM_TIMEOUT", "1e10", "at most a day"),
    ("ASSISTANT_MAX_FILE_MB", "1e300", "at most 1048576"),
    ("ASSISTANT_QUERY_THREADS", "100000", "0 (all cores) to 256"),
    ("ASSISTANT_LLM_BASE_URL", "not a url", "an http:// or https:// address"),
    ("ASSISTANT_HOST", "not a host", "a host name or IP address"),
    ("ASSISTANT_LLM_BASE_URL", "https://api.example.com/v1\n", "without spaces"),
])
def test_out_of_range_values_are_one_line_naming_the_variable(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as err:
        Settings.from_env()
    message = str(err.value)
    assert message.startswith(name) and expected in message and "\n" not in message


def test_a_login_in_a_bad_endpoint_address_is_not_shown(monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", "llm.example.com:s3cretPass@gw.example.com/v1")
    with pytest.raises(ValueError) as err:
        Settings.from_env()
    assert "s3cretPass" not in str(err.value) and "(hidden)@gw.example.com" in str(err.value)
    with pytest.raises(ValueError) as err:  # refused for its space, a login with a space or an "@" in it all hidden
        Settings.from_env(llm_base_url="http://user:sec ret@x@host/v1")
    assert "user" not in str(err.value) and "sec" not in str(err.value) and "'http://(hidden)@host/v1'" in str(err.value)
    assert Settings.from_env(llm_base_url="HTTPS://api.example.com/v1").llm_base_url  # the scheme in capitals is fine


def test_secrets_stay_out_of_reprs_and_errors(monkeypatch):
    settings = Settings(auth="alice:s3cret", llm_api_key="sk-secret")
    assert "s3cret" not in repr(settings) and "sk-secret" not in repr(settings)
    monkeypatch.setenv("ASSISTANT_AUTH", "nopassword-s3cret")
    with pytest.raises(ValueError) as err:
        Settings.from_env()
    assert "s3cret" not in str(err.value) and "USER:PASSWORD" in str(err.value)


def test_the_app_and_the_cli_say_it_in_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "ASSISTANT_K": "0", "HOME": str(tmp_path)}
    for args in ([str(ROOT / "app.py")], ["-m", "assistant", "search", "anything"]):
        result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert lines and "ASSISTANT_K=0: expected 1 to 100" in lines[-1] and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("given, message", [
    ({"k": "3"}, "Settings(k=…) k='3': expected a whole number, not str"),
    ({"k": 2.5}, "Settings(k=…) k=2.5: expected a whole number, not float"),
    ({"answer_candidates": 1.5}, "answer_candidates=1.5: expected a whole number"),
    ({"spelling": "false"}, "Settings(spelling=…) spelling='false': expected true or false, not str"),
    ({"lock_timeout": None}, "lock_timeout=None: expected a number, not NoneType"),
    ({"chunk_size": "1200"}, "chunk_size='1200': expected a whole number"),
    ({"k": True}, "k=True: expected a whole number, not bool"),
    ({"k": 0}, "Settings(k=…) k=0: expected 1 to 100"),
])
def test_settings_given_in_python_are_checked_for_their_type_and_named_as_given(given, message):
    # k="3" had been a bare TypeError, spelling="false" was truthy (spelling stayed on), and
    # candidates=2.5 failed at the first question with "slice indices must be integers"
    with pytest.raises(ValueError) as err:
        Settings(**given)
    assert message in str(err.value) and "ASSISTANT_" not in str(err.value)


def test_settings_take_a_path_for_a_folder_and_a_whole_number_for_a_number(tmp_path, monkeypatch):
    settings = Settings(index_dir=tmp_path / "index", lock_timeout=5)
    assert settings.index_dir == str(tmp_path / "index") and settings.lock_timeout == 5
    monkeypatch.setenv("ASSISTANT_K", "0")
    with pytest.raises(ValueError, match="^ASSISTANT_K=0: expected 1 to 100"):  # from the environment: named as such
        Settings.from_env()
    monkeypatch.setenv("ASSISTANT_K", "3")
    with pytest.raises(ValueError, match=r"^Settings\(answer_k=…\) answer_k=0"):
        Settings.from_env(answer_k=0)


@pytest.mark.parametrize("name", ["ASSISTANT_INDEX_DIR", "ASSISTANT_CORPUS_DIR", "ASSISTANT_ANSWER_MODEL_DIR"])
@pytest.mark.parametrize("value", ["", "  "])
def test_a_place_set_to_nothing_is_an_error_naming_it_not_the_default(monkeypatch, name, value):
    # `ASSISTANT_INDEX_DIR=$TYPO … index rebuild docs/` had rebuilt (and pruned) the working index
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=rf"^{name}='{value}': set but empty; unset it for the default"):
        Settings.from_env()
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "")  # other text settings may be empty
    monkeypatch.delenv(name)
    assert Settings.from_env().llm_model == ""


def test_a_secret_of_the_wrong_type_is_not_echoed():
    with pytest.raises(ValueError) as err:
        Settings(llm_api_key=b"sk-SECRET-KEY")
    assert "SECRET" not in str(err.value) and "llm_api_key=(hidden): expected text, not bytes" in str(err.value)
