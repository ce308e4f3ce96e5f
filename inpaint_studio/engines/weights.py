"""Weight files: the manifest, verification, import/convert and download.

``weights/manifest.toml`` lists every weight file an engine can use. Bundled files live in
the top-level ``weights/`` folder (``paths.weights_dir()``); files the user imports or
downloads live in ``paths.user_weights_dir()``, recorded with their sha256 in
``installed.json`` there. Every installed file is in our own format::

    {"format": "inpaint-studio-weights", "engine": ..., "layout": ..., "state_dict": {...}}

Files are hash-checked before loading (hashes cached by path, size and mtime) and loaded
with ``torch.load(..., weights_only=True)``. Importing a public checkpoint goes through the
engine class's ``convert_checkpoint(checkpoint) -> (state_dict, layout)`` staticmethod,
which checks every key and shape against our network and raises UserError otherwise.
torch is imported only inside the functions that need it.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from inpaint_studio import paths
from inpaint_studio.core.errors import Cancelled, NotReady, UserError
from inpaint_studio.core.types import ProgressFn

# an engine class's convert_checkpoint: public checkpoint -> (state_dict, layout); this
# module never imports engines or the registry, callers pass it (registry.converter)
Converter = Callable[[Any], "tuple[dict, str]"]

FORMAT = "inpaint-studio-weights"
MANIFEST = "manifest.toml"
INSTALLED = "installed.json"
HASH_CACHE = "hash-cache.json"
DOWNLOAD_ATTEMPTS = 5
CHUNK = 1 << 20


@dataclass(frozen=True)
class WeightEntry:
    """One manifest entry. ``sha256``/``size`` describe the file as shipped or downloaded
    ("" / 0 when upstream publishes none: such files are verified by structure only)."""

    name: str
    engine: str
    title: str
    file: str
    layout: str
    licence: str
    training_data: str
    source_url: str
    bundled: bool = False
    sha256: str = ""
    size: int = 0
    url: str = ""
    source_file: str = ""
    notes: str = ""

    @property
    def non_commercial(self) -> bool:
        return "NC" in self.licence or "non-commercial" in self.licence.lower()


# ---------------------------------------------------------------- manifest


def entries() -> list[WeightEntry]:
    """All entries of ``weights/manifest.toml`` (UserError if it is malformed)."""
    path = paths.weights_dir() / MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotReady(f"weights manifest not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"weights manifest {path} is malformed: {exc}") from None
    fields = set(WeightEntry.__dataclass_fields__)
    result = []
    for raw in data.get("weights", []):
        unknown = set(raw) - fields
        if unknown:
            raise UserError(f"weights manifest entry {raw.get('name', '?')!r} has unknown keys: "
                            f"{', '.join(sorted(unknown))}")
        try:
            result.append(WeightEntry(**raw))
        except TypeError as exc:
            raise UserError(f"weights manifest entry {raw.get('name', '?')!r} is incomplete: {exc}") from None
    return result


def get_entry(entry: "WeightEntry | str") -> WeightEntry:
    if isinstance(entry, WeightEntry):
        return entry
    for item in entries():
        if item.name == entry:
            return item
    names = ", ".join(e.name for e in entries())
    raise UserError(f"unknown weights '{entry}' (known: {names})")


def licence_line(entry: "WeightEntry | str") -> str:
    """One line for the user: licence and training data, with a non-commercial warning."""
    entry = get_entry(entry)
    warn = " - NON-COMMERCIAL USE ONLY" if entry.non_commercial else ""
    return f"licence: {entry.licence}{warn}; training data: {entry.training_data}; source: {entry.source_url}"


# ---------------------------------------------------------------- where files are


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def installed_records() -> dict:
    """``installed.json`` of the user weights folder: name -> {file, sha256, size, layout, ...}.

    A damaged ``installed.json`` is rebuilt from the weight files found in the folder (their
    hashes taken now), so one bad write never forgets every install."""
    path = paths.user_weights_dir() / INSTALLED
    data = _read_json(path)
    if data or not path.is_file() or path.read_bytes().strip() in (b"", b"{}"):
        return data
    return _recover_records(path)


def _recover_records(path: Path) -> dict:
    records = {}
    for entry in entries():
        found = paths.user_weights_dir() / entry.file
        if found.is_file():
            records[entry.name] = {"file": entry.file, "sha256": file_sha256(found, use_cache=False),
                                   "size": found.stat().st_size, "layout": entry.layout,
                                   "source": "recovered: installed.json was damaged"}
    try:
        path.replace(path.with_name(INSTALLED + ".damaged"))
        _write_atomic(path, json.dumps(records, indent=1).encode())
    except OSError:
        pass  # a read-only folder: recovered again next time
    return records


def weight_path(entry: "WeightEntry | str") -> Path:
    """Where this entry's file is (or would be): user-installed first, else bundled."""
    entry = get_entry(entry)
    if entry.bundled and entry.name not in installed_records():
        return paths.weights_dir() / entry.file
    return paths.user_weights_dir() / entry.file


def missing_reason(entry: "WeightEntry | str") -> str:
    """"" when the file is installed, else one line saying exactly how to get it."""
    entry = get_entry(entry)
    path = weight_path(entry)
    if path.is_file() and (entry.bundled or entry.name in installed_records()):
        return ""
    get = f"inpaint-studio weights import FILE --engine {entry.engine} --name {entry.name}"
    what = entry.source_file or "the checkpoint"
    if entry.bundled:
        return (f"weights '{entry.name}' are not bundled with this build ({path} is missing); "
                f"if you have the file, install it with: {get}")
    licence = entry.licence.split(" (")[0]  # "CC BY-NC 4.0 (upstream/repo)" -> "CC BY-NC 4.0"
    terms = f" (licence {licence}: non-commercial use only)" if entry.non_commercial else ""
    if entry.url:
        return (f"weights '{entry.name}'{terms} are not installed: run `inpaint-studio weights "
                f"download {entry.name}`, or get {what} from {entry.source_url} and run `{get}`")
    return (f"weights '{entry.name}'{terms} are not installed: get {what} from "
            f"{entry.source_url} and run `{get}`")


def best_missing_reason(names) -> str:
    """The most useful missing reason among alternatives: a downloadable entry first, then
    one the user can import, then a bundled one ("" if any is installed)."""
    missing = [get_entry(n) for n in names]
    if any(not missing_reason(e) for e in missing):
        return ""
    missing.sort(key=lambda e: (not e.url, e.bundled))
    return missing_reason(missing[0]) if missing else ""


# ---------------------------------------------------------------- hashing


def file_sha256(path: Path, *, use_cache: bool = True) -> str:
    """sha256 of a file, streamed; cached by (path, size, mtime) in the user weights folder."""
    path = Path(path).resolve()
    stat = path.stat()
    key, stamp = str(path), [stat.st_size, stat.st_mtime_ns]
    cache_path = paths.user_weights_dir() / HASH_CACHE
    cache = _read_json(cache_path)
    hit = cache.get(key)
    if use_cache and isinstance(hit, list) and hit[:2] == stamp:
        return hit[2]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    value = digest.hexdigest()
    cache[key] = stamp + [value]
    try:
        _write_atomic(cache_path, json.dumps(cache, indent=1).encode())
    except OSError:
        pass  # a read-only user folder only costs a rehash next time
    return value


# ---------------------------------------------------------------- loading


def _torch_load(path: Path, device: str = "cpu") -> Any:
    import pickle
    import re

    import torch

    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's wording: "Unsupported global: GLOBAL x" (older), "unsupported GLOBAL x" (2.6+)
        found = re.search(r"[Uu]nsupported (?:global: )?GLOBAL ([\w.]+)", str(exc))
        if found:
            raise UserError(f"{path.name} contains Python objects ({found.group(1)}) that are not loaded "
                            f"for safety: only plain weight files are accepted") from None
        raise UserError(f"{path.name} is not a readable PyTorch checkpoint (corrupt, truncated, or not a "
                        f"checkpoint at all)") from None
    except MemoryError:
        raise UserError(f"{path.name}: not enough memory to load it") from None
    except Exception as exc:  # torch raises KeyError, IndexError, RuntimeError... on junk
        first = str(exc).strip().split(". ")[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path.name} is not a readable PyTorch checkpoint (corrupt, truncated, or not a "
                        f"checkpoint at all): {first}") from None


def load_state_dict(entry: "WeightEntry | str", device: str = "cpu") -> dict:
    """Verify and load an installed entry: a float32 state_dict in our layout, on ``device``."""
    entry = get_entry(entry)
    reason = missing_reason(entry)
    if reason:
        raise NotReady(reason)
    path = weight_path(entry)
    record = installed_records().get(entry.name)
    expected = record.get("sha256", "") if record else entry.sha256
    if expected:
        actual = file_sha256(path)
        if actual != expected:
            raise UserError(f"weights file {path} does not match its recorded sha256 "
                            f"(expected {expected[:12]}..., found {actual[:12]}...): it is damaged or was "
                            f"replaced; import or download '{entry.name}' again")
    data = _torch_load(path, device)
    if not (isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("state_dict"), dict)):
        raise UserError(f"{path} is not an Inpaint Studio weights file; install it with "
                        f"`inpaint-studio weights import FILE --engine {entry.engine}`")
    if data.get("engine") != entry.engine or data.get("layout") != entry.layout:
        raise UserError(f"{path} holds {data.get('engine')}/{data.get('layout')} weights, but "
                        f"'{entry.name}' needs {entry.engine}/{entry.layout}")
    return {key: value.float() if value.is_floating_point() else value
            for key, value in data["state_dict"].items()}


def save_checkpoint(path: Path, state_dict: dict, *, engine: str, layout: str) -> str:
    """Write our format atomically (float32, contiguous tensors); return its sha256."""
    import io

    import torch

    clean = {key: value.detach().to("cpu", torch.float32 if value.is_floating_point() else value.dtype)
             .contiguous().clone() for key, value in state_dict.items()}
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "engine": engine, "layout": layout, "state_dict": clean}, buffer)
    data = buffer.getvalue()
    _write_atomic(Path(path), data)
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- import


def _install(source: Path, engine: str, name: Optional[str], origin: str, convert: Converter) -> WeightEntry:
    """Load ``source`` safely, convert it to our layout, save it into the user folder."""
    checkpoint = _torch_load(source)
    if isinstance(checkpoint, dict) and checkpoint.get("format") == FORMAT and not isinstance(
            checkpoint.get("state_dict"), dict):
        raise UserError(f"{source.name} is an Inpaint Studio weights file without weights (no state_dict)")
    try:
        state_dict, layout = convert(checkpoint)
    except UserError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise UserError(f"{source.name} is not a {engine} checkpoint ({type(exc).__name__}: "
                        f"{str(exc)[:80]})") from None
    _check_finite(source, state_dict)
    if name:
        entry = get_entry(name)
        if entry.engine != engine:
            raise UserError(f"weights '{name}' belong to engine '{entry.engine}', not '{engine}'")
        if entry.layout != layout:
            raise UserError(f"{source.name} is a {layout} checkpoint but '{name}' expects {entry.layout}")
    else:
        matches = [e for e in entries() if e.engine == engine and e.layout == layout]
        if not matches:
            raise UserError(f"no manifest entry of engine '{engine}' takes {layout} checkpoints")
        by_file = [e for e in matches if e.source_file and e.source_file == source.name]
        # our own exports (training runs) go to our entries, public checkpoints to theirs
        ours = isinstance(checkpoint, dict) and checkpoint.get("format") == FORMAT
        preferred = [e for e in matches if e.bundled == ours]
        entry = (by_file or preferred or matches)[0]
    target = paths.user_weights_dir() / entry.file
    sha = save_checkpoint(target, state_dict, engine=engine, layout=layout)
    records = installed_records()
    records[entry.name] = {"file": entry.file, "sha256": sha, "size": target.stat().st_size,
                           "layout": layout, "source": origin,
                           "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _write_atomic(paths.user_weights_dir() / INSTALLED, json.dumps(records, indent=1).encode())
    return entry


def _check_finite(source: Path, state_dict: dict) -> None:
    """Refuse weights with NaN or infinite values: they would paint flat patches."""
    for key, value in state_dict.items():
        if value.is_floating_point() and not bool(value.isfinite().all()):
            raise UserError(f"{source.name} has NaN or infinite values in {key}: the weights are "
                            "broken (a diverged training run?)")


def import_checkpoint(path: "Path | str", engine: str, name: Optional[str] = None, *,
                      convert: Converter) -> str:
    """Validate a user-supplied checkpoint by structure, convert and install it; return the entry name.

    ``convert``: the engine class's ``convert_checkpoint`` (``registry.converter(engine)``)."""
    source = Path(path)
    if not source.is_file():
        raise UserError(f"no such file: {source}")
    return _install(source, engine, name, origin=str(source.resolve()), convert=convert).name


# ---------------------------------------------------------------- download


def partial_bytes(entry: "WeightEntry | str") -> int:
    """Bytes of an unfinished download of this entry that a new download would resume."""
    part = paths.user_weights_dir() / f"{get_entry(entry).name}.download.part"
    return part.stat().st_size if part.is_file() and _part_meta(part).is_file() else 0


def _part_meta(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _fetch(url: str, part: Path, progress: Optional[ProgressFn], label: str,
           cancel=None) -> None:
    """Download ``url`` into ``part``, resuming with HTTP Range from what is already there.

    A ``.part`` is resumed only from the same address, and with ``If-Range`` on the
    validator the server gave then, so a changed file restarts instead of being spliced."""
    meta = _read_json(_part_meta(part))
    if part.exists() and meta.get("url") != url:
        part.unlink()  # begun from another address, or of unknown origin: never spliced
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "inpaint-studio"})
    if have:
        request.add_header("Range", f"bytes={have}-")
        if meta.get("validator"):
            request.add_header("If-Range", meta["validator"])
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the .part is complete
            return
        raise
    with response:
        if response.status == 206:
            start = response.headers.get("Content-Range", "").split(" ")[-1].split("-")[0]
            if start != str(have):
                part.unlink(missing_ok=True)  # so the next try starts clean
                raise UserError(f"server resumed {label} at byte {start}, expected {have}; "
                                "the partial download was deleted, try again")
        else:
            have = 0  # server ignored Range (or the file changed): start over
        validator = response.headers.get("ETag") or response.headers.get("Last-Modified") or ""
        if not have:
            _write_atomic(_part_meta(part), json.dumps({"url": url, "validator": validator}).encode())
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else 0
        done = have
        with open(part, "ab" if have else "wb") as handle:
            while True:
                if cancel is not None and cancel():
                    raise Cancelled()
                block = response.read(CHUNK)
                if not block:
                    break
                handle.write(block)
                done += len(block)
                if progress:
                    progress(done / total if total else 0.0,
                             f"downloading {label}: {done / 1e6:.1f} of {total / 1e6:.1f} MB" if total
                             else f"downloading {label}: {done / 1e6:.1f} MB")
        if total and done < total:
            raise http.client.IncompleteRead(b"", total - done)


def download(name: str, progress: Optional[ProgressFn] = None, url: Optional[str] = None,
             cancel=None, *, convert: Converter) -> str:
    """Fetch an entry's file (resumable), check size/sha256, convert and install it.

    ``convert``: the entry's engine's ``convert_checkpoint`` (``registry.converter(engine)``).

    ``cancel()`` returning True stops it between blocks (Cancelled; the ``.part`` stays for
    a resume). A file that fails its checks is deleted, so a retry starts clean."""
    entry = get_entry(name)
    url = url or entry.url
    if not url:
        raise UserError(f"'{entry.name}' has no download address; get {entry.source_file or 'the checkpoint'} "
                        f"from {entry.source_url} and run `inpaint-studio weights import FILE "
                        f"--engine {entry.engine}`")
    folder = paths.user_weights_dir()
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"{entry.name}.download.part"
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            _fetch(url, part, progress, entry.name, cancel)
            break
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout) as exc:
            if isinstance(exc, urllib.error.HTTPError) or attempt == DOWNLOAD_ATTEMPTS:
                got = part.stat().st_size if part.exists() else 0
                raise UserError(f"download of '{entry.name}' failed after {got / 1e6:.1f} MB ({exc}); "
                                f"run the same command again to resume") from None
    _part_meta(part).unlink(missing_ok=True)
    size = part.stat().st_size
    if entry.size and size != entry.size:
        part.unlink()
        raise UserError(f"downloaded '{entry.name}' is {size} bytes, expected {entry.size}; deleted it, try again")
    if entry.sha256:
        actual = file_sha256(part, use_cache=False)
        if actual != entry.sha256:
            part.unlink()
            raise UserError(f"downloaded '{entry.name}' has sha256 {actual[:12]}..., expected "
                            f"{entry.sha256[:12]}...; deleted it (wrong file or tampered download)")
    try:
        _install(part, entry.engine, entry.name, origin=url, convert=convert)
    except UserError as exc:
        part.unlink(missing_ok=True)
        raise UserError(f"downloaded '{entry.name}' is unusable: {exc}") from None
    part.unlink(missing_ok=True)
    return entry.name


# ---------------------------------------------------------------- verify


def verify(entry: "WeightEntry | str") -> str:
    """Rehash an installed entry: "" when it matches its record, else the problem."""
    entry = get_entry(entry)
    reason = missing_reason(entry)
    if reason:
        return reason
    path = weight_path(entry)
    record = installed_records().get(entry.name)
    expected = record.get("sha256", "") if record else entry.sha256
    if not expected:
        return ""
    actual = file_sha256(path, use_cache=False)
    if actual != expected:
        return f"{path}: sha256 {actual[:12]}... does not match the recorded {expected[:12]}..."
    return ""
