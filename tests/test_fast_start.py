"""``import reglab``, ``import reglab.cli`` and ``reglab --help`` import only what they need.

Each check runs a fresh interpreter (``sys.modules`` of this test process is full).
Timings are in ``benchmarks/import_time.py``, never here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

# scikit-learn (sklearn.datasets alone takes about a second), scipy.io, scipy.stats,
# scipy.sparse, scipy.special and matplotlib are each used by a few commands only; Dask only
# with --scheduler (scheduler=)
HEAVY = ("sklearn", "scipy.io", "scipy.stats", "scipy.sparse", "scipy.special", "matplotlib",
         "dask", "distributed")


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize("code", [
    "import reglab",
    "import reglab.cli",
    "from reglab.cli.main import main\n"
    "try:\n    main(['--help'])\nexcept SystemExit:\n    pass",
])
def test_start_imports_no_heavy_module(code):
    assert heavy_in(imported_after(code)) == []


def test_the_heavy_modules_are_imported_where_they_are_used():
    """The probe can see them: loading digits imports sklearn, reading a .mat scipy.io."""
    used = imported_after("import reglab\nreglab.load_dataset('digits')")
    assert "sklearn.datasets" in used and "scipy.sparse" in used
    assert heavy_in(imported_after("import reglab\nreglab.load_dataset('moons')")) != []


def test_dask_is_imported_only_for_a_cluster(tmp_path):
    """A local sweep (the CLI, in a fresh interpreter) imports no Dask; ``--scheduler`` does,
    even when it then refuses the address."""
    args = ["sweep", "--dataset", "moons", "--n-samples", "60", "--layers", "4", "--iterations", "20",
            "--l2", "0,1", "--seeds", "1", "--jobs", "1", "--out", str(tmp_path / "local")]
    run = ("from reglab.cli.main import main\ntry:\n    main({!r})\nexcept SystemExit as e:\n"
           "    assert e.code in (0, 2), e.code")
    local = imported_after(run.format(args))
    assert "reglab.experiments.runner" in local and "dask" not in local and "distributed" not in local
    if importlib.util.find_spec("distributed") is not None:  # else test_distributed says it is missing
        remote = imported_after(run.format(args[:-4] + ["--scheduler", "tcp://127.0.0.1:1", "--out",
                                                        str(tmp_path / "remote")]))
        assert "distributed" in remote


def test_help_lists_every_verb_with_its_own_summary():
    """The summaries ``reglab --help`` shows without importing a verb are the verbs' own."""
    from reglab.cli.main import LAZY_VERBS, main

    for name, (_, _, summary) in LAZY_VERBS.items():
        command = main.get_command(None, name)
        assert command.get_short_help_str(1000) == summary, name
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("compare", "diagnose", "gradcheck", "predict", "replay", "reproduce", "sweep", "train"):
        assert f"\n  {name} " in result.output, name
