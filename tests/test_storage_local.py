"""The local image folder under real faults: a full disk and a read-only filesystem (tmpfs
mounts, since root ignores permission bits), plus its permissions and its listing."""

from __future__ import annotations

import logging
import os
import stat
import uuid
from pathlib import Path

import pytest

from gouache.errors import ConfigError, StorageError
from gouache.storage import LocalImageStore, load_or_create_secret
from tests.faults import read_only, small_tmpfs

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_full_disk_is_a_storage_error_and_leaves_no_partial_file(tmp_path: Path):
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        store = LocalImageStore(disk / "images")
        operation_id = str(uuid.uuid4())
        store.put(operation_id, 0, "png", PNG)
        with pytest.raises(StorageError) as caught:
            store.put(operation_id, 1, "png", os.urandom(2 * 1024 * 1024))
        assert "full" in caught.value.message
        assert str(disk) not in caught.value.message
        assert caught.value.status_code == 503
        assert _files(disk / "images") == [f"{operation_id}/0.png"]
        assert store.read(operation_id, "0.png") == PNG


def test_a_read_only_folder_refuses_writes_without_leaking_its_path(tmp_path: Path):
    with small_tmpfs(tmp_path / "disk") as disk:
        store = LocalImageStore(disk / "images")
        operation_id = str(uuid.uuid4())
        with read_only(disk), pytest.raises(StorageError) as caught:
            store.put(operation_id, 0, "png", PNG)
        assert "read-only" in caught.value.message
        assert str(disk) not in caught.value.message
        assert "/" not in caught.value.message.replace("s3://", "")
        assert _files(disk / "images") == []


def test_delete_removes_every_file_and_the_folder(tmp_path: Path):
    store = LocalImageStore(tmp_path / "images")
    operation_id = str(uuid.uuid4())
    for index in range(3):
        store.put(operation_id, index, "png", PNG)
    store.delete(operation_id)
    assert not (tmp_path / "images" / operation_id).exists()
    assert store.operation_ids() == []
    store.delete(operation_id)  # nothing there: still fine


def test_delete_that_cannot_remove_the_images_raises_and_keeps_them_readable(tmp_path: Path):
    with small_tmpfs(tmp_path / "disk") as disk:
        store = LocalImageStore(disk / "images")
        operation_id = str(uuid.uuid4())
        store.put(operation_id, 0, "png", PNG)
        with read_only(disk):
            with pytest.raises(StorageError) as caught:
                store.delete(operation_id)
            assert str(disk) not in caught.value.message
            assert store.read(operation_id, "0.png") == PNG
        assert store.operation_ids() == [operation_id]
        store.delete(operation_id)
        assert store.operation_ids() == []


def test_operation_ids_lists_only_operation_folders(tmp_path: Path):
    store = LocalImageStore(tmp_path / "images")
    ids = sorted(str(uuid.uuid4()) for _ in range(3))
    for operation_id in ids:
        store.put(operation_id, 0, "png", PNG)
    (tmp_path / "images" / "lost+found").mkdir()
    (tmp_path / "images" / "notes.txt").write_text("not an operation")
    assert sorted(store.operation_ids()) == ids


def test_images_are_owner_only(tmp_path: Path):
    store = LocalImageStore(tmp_path / "images")
    operation_id = str(uuid.uuid4())
    store.put(operation_id, 0, "png", PNG)
    assert _mode(tmp_path / "images") == 0o700
    assert _mode(tmp_path / "images" / operation_id) == 0o700
    assert _mode(tmp_path / "images" / operation_id / "0.png") == 0o600


def test_an_existing_images_folder_is_made_owner_only(tmp_path: Path):
    (tmp_path / "images").mkdir(mode=0o755)
    os.chmod(tmp_path / "images", 0o755)
    LocalImageStore(tmp_path / "images")
    assert _mode(tmp_path / "images") == 0o700


def test_the_link_secret_is_owner_only_even_over_a_stale_temp_file(tmp_path: Path):
    stale = tmp_path / "link-secret.tmp"
    stale.write_bytes(b"x")
    os.chmod(stale, 0o644)
    secret = load_or_create_secret(tmp_path)
    assert len(secret) == 32
    assert _mode(tmp_path / "link-secret.key") == 0o600


def test_a_secret_readable_by_others_is_warned_about(tmp_path: Path, caplog):
    load_or_create_secret(tmp_path)
    os.chmod(tmp_path / "link-secret.key", 0o644)
    with caplog.at_level(logging.WARNING, logger="gouache.storage"):
        load_or_create_secret(tmp_path)
    assert any("readable by others" in record.getMessage() for record in caplog.records)
    assert any("chmod 600" in record.getMessage() for record in caplog.records)


def test_a_folder_refuses_presigned_links_with_the_setting_to_change(tmp_path):
    store = LocalImageStore(tmp_path / "images")
    assert store.can_presign is False
    with pytest.raises(ConfigError, match="links = 'stream'"):
        store.presigned_url(str(uuid.uuid4()), "0.png", 60)
