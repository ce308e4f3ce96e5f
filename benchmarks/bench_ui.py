"""Editor responsiveness on a 24 MP photo. Prints figures; asserts nothing.

- time per brush segment (mouse move -> mask raster -> overlay tiles -> repaint of the
  dirty region) at 100 % and at fit zoom (target < 8 ms);
- history memory after 100 brush strokes (target < 300 MB);
- the GUI thread's longest stall while a fill runs on the worker thread (a 5 ms QTimer
  measures the gaps; target < 50 ms).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui.py [--engine patchmatch] [--size 6000x4000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402


def make_photo(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = (x * 0.7 + y * 0.3).astype(np.uint8)
    image[..., 1] = (255 - x * 0.5 - y * 0.2).astype(np.uint8)
    image[..., 2] = ((x + y) * 0.5).astype(np.uint8)
    noise = rng.integers(0, 16, (height, width), dtype=np.uint8)
    image[..., 1] += noise
    return image


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="6000x4000")
    parser.add_argument("--engine", default="patchmatch")
    parser.add_argument("--segments", type=int, default=200)
    parser.add_argument("--no-fill", action="store_true")
    parser.add_argument("--cold", action="store_true", help="no preload: the first fill imports the engine")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    from PySide6.QtCore import QEvent, QPointF, QSettings, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from inpaint_studio.app import make_application
    from inpaint_studio.core.document import Document
    from inpaint_studio.ui.main_window import MainWindow

    app = make_application()
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.IniFormat)
    t0 = time.perf_counter()
    document = Document(make_photo(width, height))
    window = MainWindow(settings=settings, document=document)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    print(f"photo {width}x{height} ({width * height / 1e6:.1f} MP); window ready in "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms (incl. making the photo)")
    canvas, viewport = window.canvas, window.canvas.viewport()
    window.select_tool("tool_brush")
    window.brush.size = 60

    def send(kind, pos, buttons=Qt.LeftButton):
        button = Qt.LeftButton if kind != QEvent.MouseMove else Qt.NoButton
        event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos.toPoint())),
                            button, buttons, Qt.NoModifier)
        QApplication.sendEvent(viewport, event)

    def stroke_times(n: int, step: float, offset=QPointF(0, 0)) -> list[float]:
        times = []
        start = QPointF(150, 150) + offset
        send(QEvent.MouseButtonPress, start)
        app.processEvents()
        for i in range(1, n + 1):
            pos = offset + QPointF(150 + (i * step) % 1200, 150 + 300 * ((i * step) // 1200) % 700 + (i % 7))
            t = time.perf_counter()
            send(QEvent.MouseMove, pos)
            app.processEvents()  # the repaint of the dirty region happens here
            times.append((time.perf_counter() - t) * 1000)
        send(QEvent.MouseButtonRelease, pos, Qt.NoButton)
        app.processEvents()
        return times

    for label, zoom in (("100 %", 1.0), ("fit", None)):
        if zoom is None:
            canvas.zoom_fit()
        else:
            canvas.set_zoom(zoom)
        app.processEvents()
        stroke_times(10, 6)  # warm up
        times = stroke_times(args.segments, 6)
        print(f"brush segment at {label:>5} (zoom {canvas.zoom:.3f}, brush 60 px): "
              f"median {statistics.median(times):.2f} ms, p95 {sorted(times)[int(len(times) * .95)]:.2f} ms, "
              f"max {max(times):.2f} ms")

        reps = []
        for _ in range(20):
            t = time.perf_counter()
            viewport.repaint()
            reps.append((time.perf_counter() - t) * 1000)
        print(f"full canvas repaint at {label:>5} ({viewport.width()}x{viewport.height()}): "
              f"median {statistics.median(reps):.2f} ms")

    window.history.clear()
    canvas.zoom_fit()
    for k in range(100):
        stroke_times(12, 25, offset=QPointF((k % 10) * 100, (k // 10) * 60))
    import resource

    print(f"history after {len(window.history.steps)} strokes: {window.history.nbytes / 2**20:.1f} MiB "
          f"(process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")

    if args.no_fill:
        window.history.set_clean()
        window.close()
        return 0
    window.mask_op("clear")
    hole = np.zeros((height, width), bool)
    hole[height // 2:height // 2 + 160, width // 2:width // 2 + 220] = True
    document.write_region("mask", document.bounds, hole)
    window.engine_panel.set_engine(args.engine)
    window.engine_panel.hires_combo.setCurrentIndex(window.engine_panel.hires_combo.findData("off"))

    marks = []  # (what, start, end): the fill's work on the GUI thread, and long gaps

    def timed(name, fn):
        def wrapper(*a):
            t0 = time.perf_counter()
            fn(*a)
            marks.append((name, t0, time.perf_counter()))
        return wrapper

    window.service.finished.disconnect(window.fill._finished)
    window.service.finished.connect(timed("apply result", window.fill._finished))
    done = []
    window.service.finished.connect(lambda *a: done.append("finished"))
    window.service.failed.connect(lambda j, m: done.append(f"failed: {m}"))

    def one_fill(label: str) -> None:
        gaps, last = [], [0.0]
        marks.clear()
        done.clear()

        def tick():
            now = time.perf_counter()
            gaps.append((now - last[0]) * 1000)
            if gaps[-1] > 50:
                marks.append(("gap", last[0], now))
            last[0] = now

        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(tick)
        timer.start()
        last[0] = t = time.perf_counter()
        timed("submit (snapshot)", window.run_fill)()
        while not done:
            app.processEvents()
            time.sleep(0.001)
        took = time.perf_counter() - t
        end = time.perf_counter() + 0.3  # include applying the result
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        print(f"{label} fill ({args.engine}, 220x160 hole, hires off): {done[0]} in {took:.1f} s; "
              f"GUI longest gap between 5 ms ticks {max(gaps):.1f} ms, {sum(g > 50 for g in gaps)} over 50 ms")
        for name, a, b in marks:
            print(f"    {name:18s} at {(a - t) * 1000:8.0f} ms, {(b - a) * 1000:6.1f} ms")

    if args.cold:
        one_fill("cold (engine imported during the fill)")
        window.history.undo()  # the mask is back
    else:  # what the app does after opening a photo
        t = time.perf_counter()
        loaded = []
        window.service.preloaded.connect(loaded.append)
        window.service.preload(args.engine, "auto")
        while not loaded:
            app.processEvents()
            time.sleep(0.001)
        print(f"engine preload and warm-up (worker thread): {time.perf_counter() - t:.1f} s")
    one_fill("first" if not args.cold else "second")
    window.history.set_clean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
