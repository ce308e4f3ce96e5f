"""The bad-input corpus through the command line (in-process, telea engine): each case
gives its exit code and one clear line, no traceback, inputs byte-identical, no partial
output. Signals mid-write, a full disk and memory use run in a few subprocesses."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

import bad_inputs
from inpaint_studio import cli


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return {case.name: case for case in bad_inputs.build(tmp_path_factory.mktemp("corpus"))}


def snapshot(folder: Path) -> dict:
    """relative path -> sha256 (or the target, for a symlink) of everything under folder."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_fifo():
            found[rel] = "fifo"
        elif path.is_symlink():
            found[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def run_case(case, capsys) -> tuple[int, str]:
    capsys.readouterr()
    before = snapshot(case.folder)
    code = cli.main(case.argv)
    err = capsys.readouterr().err
    after = snapshot(case.folder)
    assert code in case.codes, f"{case.name}: exit {code}, expected {case.codes}\n{err}"
    assert "Traceback" not in err, f"{case.name}: traceback\n{err}"
    errors = [line for line in err.splitlines() if ": error: " in line]
    warnings = [line for line in err.splitlines() if ": warning: " in line]
    if code:
        assert errors, f"{case.name}: exit {code} without an error line\n{err}"
        if not case.name.startswith("batch-one"):
            assert len(errors) == 1, f"{case.name}: {errors}"
    said = " ".join(errors + warnings).lower()
    assert case.say in said, f"{case.name}: expected '{case.say}' in {said!r}"
    new = {case.folder / p for p in set(after) - set(before)}
    changed = {case.folder / p for p in before if p in after and after[p] != before[p]}
    gone = {case.folder / p for p in set(before) - set(after)}
    assert not gone, f"{case.name}: removed {gone}"
    assert not [p for p in after if p.name.endswith(".tmp")], f"{case.name}: temp file left"
    assert changed <= case.changes, f"{case.name}: changed inputs {changed - case.changes}"
    expected_new = case.new_ok | ({case.output} if code == 0 and case.output else set())
    assert new <= expected_new | case.changes, f"{case.name}: unexpected files {new - expected_new}"
    if code == 0 and case.output is not None:
        with Image.open(case.output) as im:
            im.load()  # a complete, valid picture
    if case.check is not None:
        case.check(case)
    return code, (errors or warnings or [""])[-1]


def test_corpus_is_big_enough(corpus):
    assert len([c for c in corpus.values() if c.argv]) >= 150


def test_every_case(corpus, capsys, request):
    """One test for all cases keeps the run short; failures name their case."""
    outcomes, problems = [], []
    for case in corpus.values():
        if not case.argv:
            continue  # an editor-only case
        try:
            code, line = run_case(case, capsys)
            outcomes.append((case.name, code, line.split(": ", 2)[-1][:90]))
        except AssertionError as exc:
            problems.append(str(exc))
    report = Path(os.environ.get("CORPUS_REPORT", "")) if os.environ.get("CORPUS_REPORT") else None
    if report:
        report.write_text("\n".join(f"{n}\t{c}\t{m}" for n, c, m in outcomes))
    assert not problems, "\n\n".join(problems)


# ---------------------------------------------------------------- in subprocesses

INTERRUPT = textwrap.dedent("""
    import os, signal, sys
    from inpaint_studio import cli
    from inpaint_studio.fileio import write
    real = write._encode
    def encode(f, *a):
        f.write(b"partial data")
        f.flush()
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))
        real(f, *a)
    write._encode = encode
    sys.exit(cli.main(sys.argv[2:]))
""")


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_mid_write_leaves_no_temp_file(tmp_path, sig):
    photo, mask, out = tmp_path / "photo.png", tmp_path / "mask.png", tmp_path / "out.png"
    Image.fromarray(bad_inputs.photo_pixels()).save(photo)
    Image.fromarray(bad_inputs.mask_pixels()).save(mask)
    before = snapshot(tmp_path)
    proc = subprocess.run([sys.executable, "-c", INTERRUPT, sig, "fill", str(photo), "--mask", str(mask),
                           "-o", str(out), "--engine", "telea"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 128 + getattr(signal, sig), proc.stderr
    assert "Traceback" not in proc.stderr and "cancelled" in proc.stderr
    assert snapshot(tmp_path) == before  # no output, no temp file, inputs untouched


FULL_DISK = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    from inpaint_studio import cli
    sys.exit(cli.main(sys.argv[1:]))
""")


@pytest.mark.slow
def test_a_full_disk_fails_cleanly(tmp_path):
    photo, mask, out = tmp_path / "photo.png", tmp_path / "mask.png", tmp_path / "out.png"
    Image.fromarray(bad_inputs.photo_pixels(200, 300)).save(photo)
    Image.fromarray(bad_inputs.mask_pixels(200, 300)).save(mask)
    before = snapshot(tmp_path)
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, "fill", str(photo), "--mask", str(mask),
                           "-o", str(out), "--engine", "telea"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ": error: " in ln]
    assert len(lines) == 1 and "cannot save" in lines[0] and "Traceback" not in proc.stderr
    assert snapshot(tmp_path) == before


def test_a_full_tmpfs_fails_cleanly(tmp_path, capsys):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(disk)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (the RLIMIT_FSIZE test covers a full disk)")
    try:
        photo, mask = tmp_path / "photo.png", tmp_path / "mask.png"
        Image.fromarray(bad_inputs.photo_pixels(200, 300)).save(photo)
        Image.fromarray(bad_inputs.mask_pixels(200, 300)).save(mask)
        code = cli.main(["fill", str(photo), "--mask", str(mask), "-o", str(disk / "out.png"), "--engine", "telea"])
        err = capsys.readouterr().err
        assert code == 1 and "No space left" in err and "Traceback" not in err
        assert os.listdir(disk) == []
    finally:
        subprocess.run(["umount", str(disk)], check=True)


MEMORY = textwrap.dedent("""
    import sys
    open("/proc/self/clear_refs", "w").write("5")  # the peak inherited from pytest's fork goes
    from inpaint_studio import fileio
    from inpaint_studio.core.errors import UserError
    for path in sys.argv[1:]:
        try:
            fileio.load_image(path)
            print("opened", path)
        except UserError as exc:
            print("refused", exc)
    status = open("/proc/self/status").read()  # VmHWM: peak since the reset above
    print("PEAK_MB", int(status.split("VmHWM:")[1].split()[0]) // 1024)
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
def test_bombs_are_refused_in_bounded_memory(corpus):
    paths = [str(next(case.folder.glob("photo.*"))) for name, case in corpus.items() if name.startswith("bomb-")]
    assert len(paths) >= 6
    proc = subprocess.run([sys.executable, "-c", MEMORY, *paths], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("refused") == len(paths), proc.stdout
    peak = int(proc.stdout.split("PEAK_MB")[1])
    assert peak < 200, f"peak {peak} MB"


def test_a_late_signal_after_the_work_prints_no_traceback():
    """As the process's entry point, a Ctrl+C or SIGTERM once the command is done (e.g.
    during interpreter exit) changes nothing and prints nothing."""
    code = ("import os, signal, sys\nfrom inpaint_studio import cli\nsys.argv = ['inpaint-studio', 'engines']\n"
            "rc = cli.main()\nos.kill(os.getpid(), signal.SIGINT)\nos.kill(os.getpid(), signal.SIGTERM)\n"
            "print('survived')\nsys.exit(rc)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "survived" in proc.stdout and proc.stderr == ""
