"""Downloads against a local HTTP server with Range support; never the internet."""

import hashlib
import http.server
import threading

import pytest

from restorer.errors import ModelUnavailable
from restorer.models.store import download

PAYLOAD = bytes(range(256)) * 1000  # 256 kB "checkpoint"
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    fail_after: int | None = None  # bytes after which the connection drops (once)
    honour_range = True
    requests: list = []

    def do_GET(self):  # noqa: N802
        type(self).requests.append(self.headers.get("Range"))
        start = 0
        if self.honour_range and (rng := self.headers.get("Range")):
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(PAYLOAD):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        limit = type(self).fail_after
        if limit is not None:
            type(self).fail_after = None
            self.wfile.write(body[:limit])
            self.wfile.flush()
            self.connection.close()
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.fail_after, _Handler.honour_range, _Handler.requests = None, True, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/model.pth"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_reports_progress(tmp_path, server):
    seen = []
    path = download(server, tmp_path / "model.pth", SHA, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_interrupted_download_resumes_with_a_range_request(tmp_path, server):
    _Handler.fail_after = 100_000
    with pytest.raises(ModelUnavailable, match="resume"):
        download(server, tmp_path / "model.pth", SHA, timeout=5)
    part = tmp_path / "model.pth.part"
    assert 0 < part.stat().st_size < len(PAYLOAD)
    kept = part.stat().st_size
    path = download(server, tmp_path / "model.pth", SHA)
    assert path.read_bytes() == PAYLOAD
    assert _Handler.requests[-1] == f"bytes={kept}-"
    assert not part.exists()


def test_server_ignoring_range_restarts_cleanly(tmp_path, server):
    _Handler.honour_range = False
    (tmp_path / "model.pth.part").write_bytes(PAYLOAD[:5000])
    assert download(server, tmp_path / "model.pth", SHA).read_bytes() == PAYLOAD


def test_checksum_mismatch_deletes_the_file(tmp_path, server):
    with pytest.raises(ModelUnavailable, match="SHA-256 .* is not the expected one"):
        download(server, tmp_path / "model.pth", "0" * 64)
    assert not (tmp_path / "model.pth").exists() and not (tmp_path / "model.pth.part").exists()


def test_already_present_file_is_not_downloaded_again(tmp_path, server):
    (tmp_path / "model.pth").write_bytes(PAYLOAD)
    download(server, tmp_path / "model.pth", SHA)
    assert _Handler.requests == []


def test_unreachable_server_is_one_sentence(tmp_path):
    with pytest.raises(ModelUnavailable, match="Downloading model.pth failed"):
        download("http://127.0.0.1:9/model.pth", tmp_path / "model.pth", SHA, timeout=2)
