"""deploy/nginx.conf.template, rendered as `make cluster` renders it (cluster/local.py), passes `nginx -t`.

Debian's nginx (installed with apt-get when missing, as the cluster tests do). Nothing is started:
`nginx -t` only reads the configuration and opens its files. The fast checks of the other
deployment files are in tests/unit/test_deploy_files.py.
"""

import subprocess
from pathlib import Path

import pytest

import cluster.local
from cluster.local import Cluster
from cluster.packages import ensure_packages, nginx_binary
from cluster.processes import ClusterError
from server.processes import free_port


def rendered(directory: Path, replicas: int = 2, api: str = "false") -> Cluster:
    """A cluster's nginx configuration written by cluster/local.py's own code, which runs `nginx -t -q` on it
    and raises ClusterError if nginx refuses it."""
    if nginx_binary() is None:
        ensure_packages()  # apt-get install nginx (and the cluster's other packages) when missing
    ports = [free_port() for _ in range(replicas * 2 + 1)]
    made = Cluster(
        directory=directory,
        port=ports[0],
        rasa_ports=ports[1 : replicas + 1],
        action_ports=ports[replicas + 1 :],
        env={"RASA_ENABLE_API": api},
    )
    made.nginx_dir.mkdir(parents=True, exist_ok=True)
    made.write_nginx_conf()
    return made


@pytest.mark.slow
@pytest.mark.parametrize("replicas, api", [(2, "false"), (2, "true"), (1, "false"), (4, "false")])
def test_the_rendered_nginx_configuration_passes_nginx_t(tmp_path, replicas, api):
    made = rendered(tmp_path / "cluster", replicas, api)
    text = made.nginx_conf.read_text()
    assert "{{" not in text and "}}" not in text
    assert f'set $rasa_api "{"on" if api == "true" else "off"}";' in text
    for port in made.rasa_ports:
        assert text.count(f"server 127.0.0.1:{port} ") == 2  # in both upstreams: round robin and sticky
    checked = subprocess.run(
        [
            nginx_binary(),
            "-t",
            "-p",
            str(made.nginx_dir),
            "-c",
            str(made.nginx_conf),
            "-e",
            str(made.nginx_dir / "e.log"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr, checked.stderr


@pytest.mark.slow
def test_nginx_t_refuses_a_broken_template(tmp_path, monkeypatch):
    """The check has teeth: a directive nginx does not know makes the rendering fail, naming the problem."""
    broken = tmp_path / "nginx.conf.template"
    broken.write_text(cluster.local.TEMPLATE.read_text().replace("proxy_buffering off;", "proxy_bufering off;"))
    monkeypatch.setattr(cluster.local, "TEMPLATE", broken)
    with pytest.raises(ClusterError, match="proxy_bufering"):
        rendered(tmp_path / "cluster")
