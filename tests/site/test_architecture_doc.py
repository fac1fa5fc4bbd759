"""ARCHITECTURE.md describes the code as it is: every module path and dotted name it mentions exists."""

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("common", "instances", "sync_sessions", "capacity", "alerting", "capacity_site")
TEXT = (ROOT / "ARCHITECTURE.md").read_text()
MENTIONS = re.findall(r"`([^`\s]+)`", TEXT)


def test_every_module_path_it_names_exists():
    paths = [m for m in MENTIONS if "/" in m and m.endswith(".py") and m.split("/")[0] in (*APPS, "tests")]
    assert len(paths) > 20
    missing = [p for p in paths if not (ROOT / p).is_file()]
    assert not missing, f"ARCHITECTURE.md names modules that do not exist: {missing}"


def test_every_app_folder_it_names_exists():
    folders = [m for m in MENTIONS if m.endswith("/") and m.split("/")[0] in APPS and m.count("/") > 1]
    missing = [f for f in folders if not (ROOT / f).is_dir()]
    assert not missing, missing


def test_every_dotted_name_it_names_imports():
    dotted = [m for m in MENTIONS if re.fullmatch(r"({})(\.\w+)+".format("|".join(APPS)), m)]
    assert "capacity.tasks.collect_queued_record" in dotted
    missing = []
    for name in dotted:
        try:
            importlib.import_module(name)
        except ImportError:
            module, _, attribute = name.rpartition(".")
            try:
                if not hasattr(importlib.import_module(module), attribute):
                    missing.append(name)
            except ImportError:
                missing.append(name)
    assert not missing, f"ARCHITECTURE.md names what does not exist: {missing}"
