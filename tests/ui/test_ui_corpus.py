"""The bad-input corpus through the editor's open path: each file opens or gives one
message of one line, and a refused file leaves the open photo as it was."""
from __future__ import annotations

import bad_inputs


def test_every_photo_of_the_corpus(qtbot, window, photo, messages, tmp_path):
    win = window
    assert win.open_path(photo[0])
    cases = [c for c in bad_inputs.build(tmp_path / "corpus") if c.opens is not None]
    assert len(cases) >= 100
    problems = []
    for case in cases:
        before = len(messages)
        current = win.document.path
        opened = win.open_path(case.photo)
        said = messages[before:]
        if opened != case.opens:
            problems.append(f"{case.name}: opened={opened}, expected {case.opens}: {said}")
        elif not opened and (len(said) != 1 or "\n" in said[0][1] or win.document.path != current):
            problems.append(f"{case.name}: refused with {said}, document {win.document.path}")
        elif opened and said and not (case.say == "truncated" and "truncated" in said[0][1]):
            problems.append(f"{case.name}: opened with {said}")
        elif opened and case.say == "truncated" and not said:
            problems.append(f"{case.name}: truncated file opened without a warning")
        if opened:
            win.history.set_clean()
    assert not problems, "\n".join(problems)
