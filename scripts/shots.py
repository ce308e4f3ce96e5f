"""The screenshot scripts' common part: an editor window under a display, a way to let
Qt settle, and a grab of the window saved into a folder."""
from __future__ import annotations

from pathlib import Path


class Shots:
    def __init__(self, out: Path, settle_ms: int = 200, status: bool = False) -> None:
        from PySide6.QtCore import QSettings

        from inpaint_studio.app import make_application
        from inpaint_studio.ui.main_window import MainWindow

        self.out, self.settle_ms, self.status = out, settle_ms, status
        self.app = make_application()  # kept alive while the window exists
        self.window = MainWindow(settings=QSettings(str(out / "settings.ini"), QSettings.IniFormat))
        self.window.resize(1500, 950)
        self.window.show()

    def settle(self, ms: int = 0) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms or self.settle_ms, loop.quit)
        loop.exec()

    def shot(self, name: str) -> None:
        self.settle()
        self.window.grab().save(str(self.out / name))
        line = f"saved {self.out / name}"
        print(line + (f" | {self.window.statusBar().currentMessage()}" if self.status else ""))
