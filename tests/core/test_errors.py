"""The user-error split: bad input exits 2, not ready exits 1; one line per exception."""
from __future__ import annotations

import pytest

from inpaint_studio.cli import main
from inpaint_studio.core.errors import BadInput, NotReady, UserError, one_line


def test_both_kinds_are_user_errors_with_their_exit_codes():
    assert issubclass(BadInput, UserError) and issubclass(NotReady, UserError)
    assert (UserError.exit_code, BadInput.exit_code, NotReady.exit_code) == (2, 2, 1)


@pytest.mark.parametrize("error, line", [
    (NotReady("weights 'x' are not installed"), "weights 'x' are not installed"),
    (MemoryError("Out of memory: try a smaller hole"), "Out of memory: try a smaller hole"),
    (MemoryError(), "Out of memory"),
    (RuntimeError("boom"), "RuntimeError: boom"),
])
def test_one_line(error, line):
    assert one_line(error) == line


def test_the_cli_exits_with_the_errors_code(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INPAINT_STUDIO_WEIGHTS", str(tmp_path))  # no manifest: not ready
    assert main(["engines"]) == 1
    assert "weights manifest not found" in capsys.readouterr().err
    monkeypatch.delenv("INPAINT_STUDIO_WEIGHTS")
    assert main(["fill", str(tmp_path / "nope.jpg"), "--mask", "m.png", "-o", "o.png"]) == 2
