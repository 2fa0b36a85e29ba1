"""Web mode: a start on a full disk answers 507, not 400 or 500 (issue 21 item 10).

The folder cannot be created (ENOSPC): the one step of a start that needs no file
size limit to fail and cannot be reached without a full file system, so mkdir is
made to fail here; the lock path is tested against a real process in
tests/integration/test_file_errors.py."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from system.orchestrator.web.service import RunService, ServiceError
from system.orchestrator.web.settings import WebSettings
from system.telemetry import Telemetry


def test_no_room_for_the_output_folder_is_507(tmp_path: Path, monkeypatch) -> None:
    def full(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "mkdir", full)
    service = RunService(Telemetry("orchestrator"), WebSettings(output_root=tmp_path / "output"))
    with pytest.raises(ServiceError) as caught:
        service.start({"topic": "Lighthouses", "producers": 1, "iterations": 1}, None)
    assert caught.value.status == 507
    assert "No space left on device" in str(caught.value)
    assert service.runs == {}
