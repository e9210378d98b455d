"""Atomic writes: all or nothing, with ordinary file permissions."""
import os
import stat

import pytest

from sertk.atomic import atomic_path, write_text


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_written_files_get_the_umask_permissions_not_owner_only(tmp_path):
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640


def test_safe_name_keeps_every_name_inside_its_folder():
    from sertk import safe_name

    assert safe_name("../../etc/passwd") == "_.._etc_passwd"
    assert safe_name("speaker-03@r2") == "speaker-03@r2" and safe_name("..") == "_" and safe_name("") == "_"
    assert "/" not in safe_name("a/b\\c d") and not safe_name(".hidden").startswith(".")


def test_write_csv_writes_dict_rows_with_a_header(tmp_path):
    import csv

    from sertk import write_csv

    write_csv(tmp_path / "t.csv", [{"id": "a", "r": 0.5}, {"id": "b,c", "r": -1}])
    assert list(csv.DictReader((tmp_path / "t.csv").open())) == [{"id": "a", "r": "0.5"}, {"id": "b,c", "r": "-1"}]
