"""The per-test watchdog of tests/conftest.py: a test that outlives ``$FEMIEC_TEST_TIMEOUT`` ends the
pytest process with a non-zero status and writes its name and stack to
``$FEMIEC_NUMBERS_DIR/watchdog-rank0.log`` (the guard that turns a rank stuck in a collective
into a red run instead of a hang)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def _run(tmp_path: Path, timeout: str, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text())
    (tmp_path / "test_slow.py").write_text(body)
    env = dict(os.environ, FEMIEC_TEST_TIMEOUT=timeout, FEMIEC_NUMBERS_DIR=str(tmp_path / "numbers"))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_slow.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_test_longer_than_the_timeout_ends_the_run_with_its_stack(tmp_path):
    run = _run(tmp_path, "2", "import time\n\ndef test_sleeps_in_a_wait():\n    time.sleep(60)\n")
    log = (tmp_path / "numbers" / "watchdog-rank0.log").read_text()
    assert run.returncode != 0
    assert "test_slow.py::test_sleeps_in_a_wait ran longer than 2 s" in log
    assert "Timeout" in log and 'line 4 in test_sleeps_in_a_wait' in log


def test_tests_within_the_timeout_pass_and_the_watchdog_is_disarmed_after_each(tmp_path):
    body = "import time\n\n" + "".join(f"def test_{i}():\n    time.sleep(1.2)\n\n" for i in range(3))
    run = _run(tmp_path, "2", body)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
