"""Relative file paths in a case resolve in the case file's folder, wherever femiec is started."""
import tomllib
from pathlib import Path

from femiec.config.loader import parse_case

SORET_CASE = Path(__file__).resolve().parents[2] / "demos" / "soret_membrane" / "case.toml"


def test_npp_temperature_file_is_read_beside_the_case(tmp_path):
    (tmp_path / "grid").mkdir()
    (tmp_path / "grid" / "T.npy").write_bytes(b"")  # the section checks that the file exists
    data = tomllib.loads(SORET_CASE.read_text())
    data["model"]["temperature"] = {"kind": "file", "file": "grid/T.npy", "spacing": [1e-4, 1e-4, 1e-4]}
    case = parse_case(data, base_dir=tmp_path)
    assert case.model.temperature.file == str((tmp_path / "grid" / "T.npy").resolve())


def test_npp_absolute_temperature_file_is_kept(tmp_path):
    data = tomllib.loads(SORET_CASE.read_text())
    target = str(tmp_path / "T.npy")
    (tmp_path / "T.npy").write_bytes(b"")
    data["model"]["temperature"] = {"kind": "file", "file": target}
    case = parse_case(data, base_dir="/somewhere/else")
    assert case.model.temperature.file == target
