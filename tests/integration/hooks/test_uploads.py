"""
``image_files`` (Legacy's upload) reads only image files, on a real file system: nothing that is
not a regular image file of bounded size is read or sent, whatever a rendered template says.
"""

from __future__ import annotations

import os
import socket
import threading

import pytest

from airflow_provider_vimmerse._uploads import MAX_IMAGE_BYTES
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import set_connection
from tests.integration.recording_server import RecordingServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64
WEBP = b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 64
GIF = b"GIF89a" + b"\0" * 64


@pytest.fixture
def server(monkeypatch):
    with RecordingServer() as srv:
        set_connection(monkeypatch, srv.url, api_version="legacy", retry_limit=0)
        yield srv


@pytest.fixture
def hook():
    with VimmerseHook() as h:
        yield h


def _refused(server, hook, value, says):
    with pytest.raises(VimmerseInvalidParameterError, match=says) as raised:
        hook.create_storyboard("An idea", image_files=value)
    assert raised.value.field == "image_files"
    assert server.requests == []


@pytest.mark.parametrize(("name", "content"), [("a.png", PNG), ("b.jpg", JPEG), ("c.webp", WEBP), ("d.gif", GIF)])
def test_real_images_are_uploaded(server, hook, tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    hook.create_storyboard("An idea", image_files=[str(tmp_path / name)])
    assert ("image_files", content) in server.requests[0].multipart


def test_a_templated_list_renders_like_image_urls(server, hook, tmp_path):
    (tmp_path / "a.png").write_bytes(PNG)
    (tmp_path / "b.png").write_bytes(PNG + b"b")
    hook.create_storyboard("An idea", image_files=f'["{tmp_path / "a.png"}", "{tmp_path / "b.png"}"]')
    assert [part for part in server.requests[0].multipart if part[0] == "image_files"] == [
        ("image_files", PNG),
        ("image_files", PNG + b"b"),
    ]


@pytest.mark.parametrize("path", ["/proc/self/environ", "/proc/self/cmdline", "/sys/kernel/hostname", "/dev/zero"])
def test_system_files_and_devices_are_never_read(server, hook, path):
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    _refused(server, hook, [path], "not under /proc, /sys or /dev")


def test_a_symlink_to_a_system_file_is_resolved_first(server, hook, tmp_path):
    (tmp_path / "innocent.png").symlink_to("/proc/self/environ")
    _refused(server, hook, [str(tmp_path / "innocent.png")], "not under /proc")


def test_a_fifo_does_not_hang_the_task(server, hook, tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    result: list[BaseException] = []
    worker = threading.Thread(target=lambda: result.append(_capture(server, hook, [str(fifo)])), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading a FIFO hung"
    assert isinstance(result[0], VimmerseInvalidParameterError) and "FIFO" in str(result[0])
    assert server.requests == []


def _capture(server, hook, value) -> BaseException | None:
    try:
        hook.create_storyboard("An idea", image_files=value)
    except BaseException as err:
        return err
    return None


def test_a_socket_and_a_folder_are_refused(server, hook, tmp_path):
    path = tmp_path / "s.png"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    try:
        _refused(server, hook, [str(path)], "regular image file")
    finally:
        sock.close()
    _refused(server, hook, [str(tmp_path)], "regular image file")


def test_a_file_over_the_cap_is_refused_without_reading_it(server, hook, tmp_path):
    big = tmp_path / "big.png"
    with big.open("wb") as handle:
        handle.write(PNG)
        handle.truncate(MAX_IMAGE_BYTES + 1)
    _refused(server, hook, [str(big)], "at most 20 MiB")


def test_a_file_that_is_not_an_image_is_refused(server, hook, tmp_path):
    secret = tmp_path / "secrets.png"
    secret.write_text("AIRFLOW_CONN_VIMMERSE_DEFAULT=...")
    _refused(server, hook, [str(secret)], "PNG, JPEG, WebP or GIF")


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "https://internal.example/a.png"])
def test_web_urls_are_refused_as_files(server, hook, url):
    _refused(server, hook, [url], "image_urls")


def test_a_scheme_no_provider_registers_is_refused(server, hook):
    _refused(server, hook, ["nosuchstore://bucket/a.png"], "registers as a filesystem")


def test_a_missing_file_and_a_wrong_type_are_refused(server, hook, tmp_path):
    _refused(server, hook, [str(tmp_path / "nope.png")], "existing, readable")
    _refused(server, hook, [42], "local image paths")
    _refused(server, hook, [], "local image paths")


def test_object_storage_paths_are_read_through_their_filesystem(server, hook):
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach

    fs = fsspec.filesystem("memory")
    attach("memory", fs=fs)  # how a deployment registers a store for ObjectStoragePath
    fs.pipe("/uploads/a.png", PNG)
    fs.pipe("/uploads/not-image.png", b"hello")
    hook.create_storyboard("An idea", image_files=[ObjectStoragePath("memory:///uploads/a.png")])
    assert ("image_files", PNG) in server.requests[0].multipart
    server.requests.clear()
    _refused(server, hook, ["memory:///uploads/not-image.png"], "PNG, JPEG")
