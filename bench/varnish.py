"""Start and stop a throwaway varnishd with deploy/varnish/site.vcl in front of a
backend port, without root: for `make bench` and the HTTP cache tests."""

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VCL_DIR = ROOT / "deploy" / "varnish"


def varnishd_path():
    """The varnishd binary, or None (Debian puts it in /usr/sbin, often not on PATH)."""
    return shutil.which("varnishd") or shutil.which("varnishd", path="/usr/sbin:/usr/local/sbin")


def write_configuration(workdir, backend_port):
    """site.vcl, and a backend.vcl naming ``backend_port``, in ``workdir``; returns site.vcl."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    backend = (VCL_DIR / "backend.vcl").read_text()
    assert '.port = "8000";' in backend
    (workdir / "backend.vcl").write_text(backend.replace('"8000"', f'"{backend_port}"'))
    shutil.copy(VCL_DIR / "site.vcl", workdir / "site.vcl")
    return workdir / "site.vcl"


class Varnish:
    """varnishd -F on 127.0.0.1:``port`` in front of 127.0.0.1:``backend_port``."""

    def __init__(self, workdir, *, port, backend_port, memory="64m"):
        self.workdir = Path(workdir)
        self.port = port
        self.backend_port = backend_port
        self.memory = memory
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        vcl = write_configuration(self.workdir, self.backend_port)
        state = self.workdir / "state"
        self.process = subprocess.Popen(
            [
                varnishd_path(),
                "-F",
                # No jail: as root, varnishd would switch to the varnish user, who
                # cannot read a private temporary directory.
                "-j",
                "none",
                "-f",
                str(vcl),
                "-a",
                f"127.0.0.1:{self.port}",
                # The management interface on a free port of its own, not 6082.
                "-T",
                "127.0.0.1:0",
                "-n",
                str(state),
                "-p",
                f"vcl_path={self.workdir}",
                "-s",
                f"malloc,{self.memory}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"varnishd stopped: {self.process.stderr.read().decode()}")
            try:
                with urllib.request.urlopen(f"{self.url}/livez", timeout=1):
                    return self
            except urllib.error.HTTPError:
                return self  # Varnish answers (the backend may not be up yet)
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("varnishd did not start listening within 20 s.")

    def pause(self):
        """Freeze every varnishd process: connections hang, the cached pages stay."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self):
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def serve(port, varnish_port):
    """`make serve-cached`: the demo site on gunicorn behind Varnish, with the task
    worker and the scheduler, until Ctrl-C; everything stops together."""
    import sys
    import tempfile

    environment = {
        **os.environ,
        "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "1"),
        "PORT": str(port),
        "SITE_URL": os.environ.get("SITE_URL", f"http://127.0.0.1:{varnish_port}"),
        "HTTP_CACHE_PURGE_URLS": os.environ.get(
            "HTTP_CACHE_PURGE_URLS", f"http://127.0.0.1:{varnish_port}/"
        ),
        # Behind Varnish, the visitor's address is the last X-Forwarded-For entry.
        "TRUSTED_PROXY_COUNT": os.environ.get("TRUSTED_PROXY_COUNT", "1"),
    }
    python = sys.executable

    def manage(*args):
        subprocess.run([python, "manage.py", *args], cwd=ROOT, env=environment, check=True)

    # SIGTERM (a supervisor, `timeout`) stops everything as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    manage("migrate", "--noinput")
    manage("load_demo")
    manage("create_demo_admin")
    processes = []
    with tempfile.TemporaryDirectory(prefix="varnish-") as workdir:
        varnish = Varnish(workdir, port=varnish_port, backend_port=port)
        try:
            for command in (
                [python, "-m", "gunicorn", "compare_site.wsgi", "-c", "gunicorn.conf.py"],
                [python, "manage.py", "db_worker", "--no-reload"],
                [python, "manage.py", "crontask", "--no-heartbeat"],
            ):
                processes.append(
                    subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True)
                )
            varnish.start()
            print(f"Through the cache: http://127.0.0.1:{varnish_port}/   (gunicorn: {port})")
            processes[0].wait()
        except KeyboardInterrupt:
            pass
        finally:
            varnish.stop()
            for process in processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="gunicorn behind Varnish, for local use.")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--varnish-port", type=int, default=6081)
    arguments = parser.parse_args()
    serve(arguments.port, arguments.varnish_port)
