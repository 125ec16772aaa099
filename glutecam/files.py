"""Writing output files so that a half-written file is never mistaken for a finished one.

Every writer puts its bytes under `<name>.part` and renames it into place only once complete (a rename
within one folder is atomic), so an interruption leaves either the old file, the new one, or a `.part`.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np


def part_path(path: Path) -> Path:
    """The temporary name a file is written under: `reps.json` -> `reps.json.part`."""
    return path.with_name(path.name + ".part")


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; rename it to `path` on success, remove it on any error."""
    path = Path(path)
    tmp = part_path(path)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


def write_text_atomic(path: str | Path, text: str | Iterable[str]) -> Path:
    """Write `text` (UTF-8) to `path` atomically; `text` may be pieces, written as they come (a page of
    many megabytes then never exists whole in memory)."""
    with replacing(path) as tmp:
        if isinstance(text, str):
            tmp.write_text(text, encoding="utf-8")
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.writelines(text)
    return Path(path)


def jsonable(o: Any) -> Any:
    """Plain JSON values: NaN/inf become null (NaN is not JSON), numpy scalars and arrays become numbers
    and lists, paths strings.

    >>> jsonable({"a": np.float32(1.5), "b": [float("nan"), np.int64(2)]})
    {'a': 1.5, 'b': [None, 2]}
    """
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return jsonable(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, Path):
        return str(o)
    return o


def dumps(o: Any, indent: int | None = None) -> str:
    return json.dumps(jsonable(o), indent=indent, ensure_ascii=False)


def write_json_atomic(path: str | Path, data: Any) -> Path:
    return write_text_atomic(path, dumps(data, indent=2))
