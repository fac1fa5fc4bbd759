"""The one-way dependency contract (pyproject.toml [tool.importlinter]) holds, and it does catch an upward import."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["common", "instances", "sync_sessions", "capacity", "alerting", "capacity_site"]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--config", str(where / "pyproject.toml"), "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_code(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_the_contract():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("instances/models.py", "from capacity.models import InstanceSizeStat"),
        ("capacity/queries.py", "from alerting.models import Alert"),
        ("sync_sessions/admin.py", "import capacity.views.dashboard"),
        ("common/formatting.py", "from instances.choices import DbType"),
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path, module, upward):
    code = copy_of_the_code(tmp_path)
    target = code / module
    target.write_text(target.read_text() + f"\n{upward}  # noqa\n")
    done = lint(code)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
