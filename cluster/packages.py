"""The Debian packages the cluster needs (PostgreSQL, Redis, nginx), installed when missing."""

import os
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

from cluster.processes import ClusterError, is_root, log


def postgres_bin() -> Optional[Path]:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def nginx_binary() -> Optional[str]:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def redis_binary() -> Optional[str]:
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def missing_packages() -> List[str]:
    missing = []
    if postgres_bin() is None:
        missing.append("postgresql")
    if redis_binary() is None:
        missing.append("redis-server")
    if nginx_binary() is None:
        missing.append("nginx")
    return missing


def ensure_packages() -> None:
    """Install postgresql, redis-server and nginx with apt-get when they are missing."""
    missing = missing_packages()
    if not missing:
        return
    if not is_root() or shutil.which("apt-get") is None:
        raise ClusterError(
            f"Missing {', '.join(missing)}: install them with `sudo apt-get install {' '.join(missing)}`."
        )
    log(f"installing {' '.join(missing)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)
    still = missing_packages()
    if still:
        raise ClusterError(f"apt-get did not provide {', '.join(still)}")
