"""Import MediaPipe without the parts glutecam never uses.

`import mediapipe` runs `mediapipe.tasks.python`'s package init, which imports every task: the audio tasks
(PortAudio's `sounddevice`) and the vision drawing helpers (`matplotlib.pyplot`). On a 2-core machine that is
0.4-0.5 s of a 0.6 s import, paid by every `glutecam analyse` before the first frame. `import_mediapipe`
imports it with those three modules deferred by the standard library's `importlib.util.LazyLoader`: each is
a real module object, registered under its real name and bound on its package as usual, whose code runs on
the first attribute read. Nothing changes for code that uses them (`mp.tasks.audio.AudioClassifier`,
`vision.drawing_utils.draw_landmarks` load them then); a MediaPipe laid out differently simply imports in
full, as do the modules when MediaPipe was imported before this is called.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading

DEFERRED = frozenset({
    "mediapipe.tasks.python.audio",                   # audio tasks and sounddevice
    "mediapipe.tasks.python.vision.drawing_utils",    # matplotlib.pyplot
    "mediapipe.tasks.python.vision.drawing_styles",   # imports drawing_utils
})


class _DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds the `DEFERRED` modules as the path finder would, with their loader wrapped in a LazyLoader,
    while `active`; else (and for every other name) leaves the search to the next finders."""

    def __init__(self) -> None:
        self.active = False

    def find_spec(self, name, path, target=None):
        if not self.active or name not in DEFERRED:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


_finder = _DeferringFinder()
_lock = threading.Lock()


def import_mediapipe():
    """The `mediapipe` package, imported with `DEFERRED` deferred if this is its first import."""
    with _lock:
        if "mediapipe" not in sys.modules:
            # Inserted once and never removed: removing a finder while another thread's import walks
            # sys.meta_path could make it skip one. Inactive, it returns None at once.
            if _finder not in sys.meta_path:
                sys.meta_path.insert(0, _finder)
            _finder.active = True
            try:
                import mediapipe  # noqa: F401
            finally:
                _finder.active = False
    return sys.modules["mediapipe"]
