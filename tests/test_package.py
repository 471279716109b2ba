import subprocess
import sys

import pytest

import neurodec
from neurodec import errors
from neurodec.cli import main


def test_version_cli(capsys):
    assert main(["--version"]) == 0
    assert neurodec.__version__ in capsys.readouterr().out


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "neurodec", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "Commands" in out.stdout


def test_unknown_name_error_is_readable():
    err = errors.UnknownNameError("unknown dataset 'X'; known: A, B")
    assert str(err) == "unknown dataset 'X'; known: A, B"
    assert isinstance(err, KeyError) and isinstance(err, errors.NeurodecError)


@pytest.mark.parametrize(
    "cls, base",
    [
        (errors.DataNotFoundError, FileNotFoundError),
        (errors.InvalidDataError, ValueError),
        (errors.ConfigError, ValueError),
    ],
)
def test_error_hierarchy(cls, base):
    assert issubclass(cls, base) and issubclass(cls, errors.NeurodecError)
