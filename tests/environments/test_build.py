"""Locks and environments with real uv (offline, from the test wheel folder) and real kernels."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from datadive_server_ext.environments import spec
from datadive_server_ext.environments.build import BuildError, EnvironmentCache
from datadive_server_ext.environments.lock import LockError, compile_lock
from datadive_server_ext.environments.service import Environments, Project
from datadive_server_ext.environments.uvcli import Sources

VERSION = "import tinypkg; print(tinypkg.__version__)"


@pytest.fixture
def envs(tmp_path, sources):
    return Environments(sources, tmp_path / "state", tmp_path / "kernels", logging.getLogger("t"))


def project(tmp_path: Path, name: str, requirements: str | None, writable: bool = True) -> Project:
    folder = tmp_path / "projects" / name
    folder.mkdir(parents=True, exist_ok=True)
    if requirements is not None:
        (folder / spec.REQUIREMENTS).write_text(requirements)
    return Project(name.lower(), name, name, folder, writable)


async def build(envs: Environments, p: Project) -> dict:
    """Build ``p`` as the route does (re-locking into the project folder) and return its status."""
    req_file, lock_file = p.dir / spec.REQUIREMENTS, p.dir / spec.LOCK

    async def save_lock(text: str) -> None:
        lock_file.write_text(text)

    req = req_file.read_text() if req_file.exists() else None
    lock = lock_file.read_text() if lock_file.exists() else None
    envs.start_build(p, req, lock, save_lock if p.writable else None)
    await envs.wait(p)
    return envs.status(
        p,
        req_file.read_text() if req_file.exists() else None,
        lock_file.read_text() if lock_file.exists() else None,
    )


async def test_build_registers_the_project_kernel_which_imports_the_locked_version(
    tmp_path, envs, run_kernel
):
    alpha = project(tmp_path, "Alpha", "tinytop\ntinypkg<2\n")
    status = await build(envs, alpha)
    assert status["build"]["error"] is None, status["build"]["log"]
    assert status["build"]["progress"] == 1.0 and not status["build"]["running"]
    env = status["environment"]
    assert env["current"] and env["kernel"] == "datadive-env-alpha"
    assert sorted(env["installed"]) == ["tinydep==1.0", "tinypkg==1.0", "tinytop==1.0"]
    assert status["lock"]["pins"] == ["tinydep==1.0", "tinypkg==1.0", "tinytop==1.0"]
    assert not status["lock"]["stale"] and status["last_error"] is None
    kernel = json.loads((tmp_path / "kernels" / "datadive-env-alpha" / "kernel.json").read_text())
    assert kernel["display_name"] == "Python (Alpha)"
    out = run_kernel(
        tmp_path / "kernels",
        "datadive-env-alpha",
        VERSION + "\nimport sys, ipykernel, tinytop; print(sys.prefix)",
    )
    version, prefix = out.split()
    assert version == "1.0", "the project's pin, in a real kernel"
    assert prefix == str(envs.cache.path(env["key"])), "the kernel runs in the project environment"


async def test_the_same_lock_is_a_cache_hit_shared_between_projects(tmp_path, envs, sources):
    first = await build(envs, project(tmp_path, "Alpha", "tinypkg==2.0\n"))
    key = first["environment"]["key"]
    marker = envs.cache.path(key) / "datadive-env.json"
    built_at = marker.stat().st_mtime_ns
    again = await build(envs, project(tmp_path, "Alpha", None))
    assert "from the cache" in again["build"]["log"]
    other = await build(envs, project(tmp_path, "Beta", "tinypkg==2.0  # same pin\n"))
    assert other["environment"]["key"] == key and "from the cache" in other["build"]["log"]
    assert marker.stat().st_mtime_ns == built_at, "nothing was rebuilt"
    assert [p.name for p in envs.cache.root.iterdir()] == [key]
    # a server restart: a new service over the same cache finds it without building
    fresh = EnvironmentCache(Sources(cache_dir=sources.cache_dir, index_urls=(), find_links=()))
    hit = fresh.build((tmp_path / "projects" / "Alpha" / spec.LOCK).read_text())
    assert hit.cached and hit.key == key and hit.seconds < 1.0


async def test_conflicting_pins_in_two_projects_work_side_by_side(tmp_path, envs, run_kernel):
    one = await build(envs, project(tmp_path, "One", "tinypkg==1.0\n"))
    two = await build(envs, project(tmp_path, "Two", "tinypkg==2.0\n"))
    assert one["environment"]["key"] != two["environment"]["key"]
    assert run_kernel(tmp_path / "kernels", "datadive-env-one", VERSION).strip() == "1.0"
    assert run_kernel(tmp_path / "kernels", "datadive-env-two", VERSION).strip() == "2.0"


async def test_a_failed_build_keeps_the_previous_environment_and_says_which_package(
    tmp_path, envs, run_kernel
):
    alpha = project(tmp_path, "Alpha", "tinypkg==1.0\n")
    good = (await build(envs, alpha))["environment"]["key"]
    (alpha.dir / spec.REQUIREMENTS).write_text("tinypkg==2.0\ntinybroken\n")
    status = await build(envs, alpha)
    error = status["last_error"]
    assert error["package"] == "tinybroken"
    assert "tinybroken failed to build" in error["message"]
    assert "needs a C compiler" in error["log"], "the build log is kept for the panel"
    assert status["build"]["error"] == error["message"]
    assert status["environment"]["key"] == good and not status["environment"]["current"]
    assert [p.name for p in envs.cache.root.iterdir()] == [good], "nothing half-built is left"
    # the kernel tries the new lock, fails, and starts in the previous environment
    assert run_kernel(tmp_path / "kernels", "datadive-env-alpha", VERSION).strip() == "1.0"


async def test_a_lock_edited_into_nonsense_is_reported_and_nothing_changes(tmp_path, envs):
    alpha = project(tmp_path, "Alpha", "tinypkg==1.0\n")
    good = (await build(envs, alpha))["environment"]["key"]
    (alpha.dir / spec.REQUIREMENTS).unlink()  # only the (hand-edited) lock is left
    (alpha.dir / spec.LOCK).write_text("tinypkg==1.0\ntinypkg is great\n")
    status = await build(envs, alpha)
    assert "requirements.lock line 2 is not a pin" in status["last_error"]["message"]
    assert "edit requirements.txt instead" in status["last_error"]["message"]
    assert status["lock"]["error"] == status["last_error"]["message"]
    assert status["environment"]["key"] == good


async def test_another_members_lock_is_used_at_the_next_kernel_start(tmp_path, envs, run_kernel):
    alpha = project(tmp_path, "Alpha", "tinypkg==1.0\n")
    await build(envs, alpha)
    # the sync brings a lock another member made (tinypkg 2.0); nobody presses Build here
    (alpha.dir / spec.LOCK).write_text(compile_lock("tinypkg==2.0\n", envs.sources))
    assert run_kernel(tmp_path / "kernels", "datadive-env-alpha", VERSION).strip() == "2.0"
    state = envs.state(alpha)
    assert state["env_key"] == envs.cache.key_of((alpha.dir / spec.LOCK).read_text())


async def test_a_viewer_without_a_lock_is_told_to_ask_an_editor(tmp_path, envs):
    status = await build(envs, project(tmp_path, "Shared", "tinypkg\n", writable=False))
    assert "has no requirements.lock yet" in status["last_error"]["message"]
    assert status["environment"] is None


@pytest.mark.parametrize(
    ("requirements", "package", "says"),
    [
        ("nosuchpkg\n", "nosuchpkg", "No package named 'nosuchpkg' in the allowed package indexes"),
        ("tinypkg>3\n", "tinypkg", "cannot all be satisfied"),
        ("tinypkg==1.0\ntinytop\ntinydep<1\n", None, "Loosen or change the version ranges"),
    ],
)
def test_unresolvable_requirements_name_the_package_and_the_fix(
    sources, requirements, package, says
):
    with pytest.raises(LockError) as e:
        compile_lock(requirements, sources)
    assert says in e.value.message
    if package:
        assert e.value.package == package


def test_an_environment_over_the_size_limit_is_not_kept(tmp_path, wheels):
    small = Sources(
        cache_dir=tmp_path / "c", index_urls=(), find_links=(str(wheels),), max_env_mb=0.01
    )
    lock = compile_lock("purepkg1\n", small)
    with pytest.raises(BuildError) as e:
        EnvironmentCache(small).build(lock)
    assert "more than the 0.01 MB allowed" in e.value.message and "purepkg1" in e.value.message
    assert list((tmp_path / "c" / "envs").iterdir()) == []


def test_project_packages_come_before_the_image(cache, sources):
    built = cache.build(compile_lock("tinypkg==1.0\n", sources))
    import subprocess

    code = "import sys; print('\\n'.join(sys.path))"
    paths = subprocess.run(
        [built.python, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    import sysconfig

    ours = [p for p in paths if p.startswith(str(built.path))]
    image = sysconfig.get_paths()["purelib"]
    assert ours and image in paths, "both the project's and the image's packages are importable"
    assert paths.index(ours[0]) < paths.index(image), "the project's versions win"


async def test_pip_install_in_the_project_kernel_is_recorded_and_there_after_a_restart(
    tmp_path, envs, run_kernel
):
    alpha = project(tmp_path, "Alpha", "tinypkg==1.0\n")
    first = (await build(envs, alpha))["environment"]["key"]
    out = run_kernel(
        tmp_path / "kernels",
        "datadive-env-alpha",
        "%pip install nosuchpkg\n%pip install tinytop\nimport tinytop, tinydep\nprint(tinytop.__version__)",
    )
    assert "nothing installed, nothing recorded: No package named 'nosuchpkg'" in out
    assert "installed tinytop in the project environment and recorded it" in out
    assert out.strip().endswith("1.0"), "importable right away, in the running kernel"
    assert (alpha.dir / spec.REQUIREMENTS).read_text() == "tinypkg==1.0\ntinytop\n"
    assert "tinydep==1.0" in (alpha.dir / spec.LOCK).read_text()
    assert not list(envs.cache.path(first).glob("lib/*/site-packages/tinytop")), (
        "shared env untouched"
    )
    assert list(envs.cache.path(first).glob("lib/*/site-packages/tinypkg")), "(the path is right)"
    # a restart (a new kernel) has it, from the cache
    assert (
        run_kernel(
            tmp_path / "kernels", "datadive-env-alpha", "import tinytop; print('ok')"
        ).strip()
        == "ok"
    )
    status = envs.status(
        alpha, (alpha.dir / spec.REQUIREMENTS).read_text(), (alpha.dir / spec.LOCK).read_text()
    )
    assert status["environment"]["current"] and "tinytop==1.0" in status["environment"]["installed"]


def test_two_servers_building_the_same_lock_at_once_build_it_once(tmp_path, wheels):
    import threading

    lock = compile_lock(
        "tinytop\n", Sources(cache_dir=tmp_path / "l", index_urls=(), find_links=(str(wheels),))
    )
    results = []

    def one():
        sources = Sources(cache_dir=tmp_path / "shared", index_urls=(), find_links=(str(wheels),))
        results.append(EnvironmentCache(sources).build(lock))

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.key for r in results}) == 1
    assert sorted(r.cached for r in results) == [False, True, True]
    assert [p.name for p in (tmp_path / "shared" / "envs").iterdir()] == [results[0].key]


def test_a_full_disk_is_said_plainly():
    from datadive_server_ext.environments.uvcli import explain

    log = "error: Failed to install: tinypkg-1.0-py3-none-any.whl\n  cause: No space left on device (os error 28)\n"
    message, _ = explain(log, Path("/srv/envs"))
    assert "The environment cache (/srv/envs) is full" in message
    assert "the previous environment keeps working" in message


async def test_a_lock_that_failed_is_not_rebuilt_at_every_kernel_start(tmp_path, envs, capsys):
    from datadive_server_ext.environments.launch import choose

    alpha = project(tmp_path, "Alpha", "tinypkg==1.0\n")
    good = (await build(envs, alpha))["environment"]["key"]
    # another member's lock arrives with a package that cannot build
    (alpha.dir / spec.LOCK).write_text(compile_lock("tinybroken\n", envs.sources))
    state = envs.state_file(alpha)
    assert choose(state) == str(envs.cache.path(good) / "bin" / "python")
    assert "did not build: tinybroken failed to build" in capsys.readouterr().err
    assert envs.state(alpha)["last_error"]["package"] == "tinybroken"
    assert choose(state) == str(envs.cache.path(good) / "bin" / "python")
    assert "failed to build before" in capsys.readouterr().err, "not tried again"
    # Build (the tab) tries again and, once it works, kernels follow the lock again
    (alpha.dir / spec.REQUIREMENTS).write_text("tinypkg==2.0\n")
    status = await build(envs, alpha)
    assert status["environment"]["current"] and envs.state(alpha).get("failed_lock") is None
    assert choose(state) == str(envs.cache.path(status["environment"]["key"]) / "bin" / "python")


def test_a_uv_step_over_the_time_limit_is_stopped_and_said(tmp_path, wheels):
    hasty = Sources(
        cache_dir=tmp_path / "c", index_urls=(), find_links=(str(wheels),), timeout=0.001
    )
    with pytest.raises(LockError) as e:
        compile_lock("tinypkg\n", hasty)
    assert "stopped after 0.001 s (DatadiveExtension.environments_build_timeout)" in e.value.message


def test_pip_install_refuses_options_and_records_nothing_for_a_viewer(
    tmp_path, envs, sources, monkeypatch
):
    import sys

    from datadive_server_ext.environments.kernelspec import write_json

    monkeypatch.setattr(sys, "path", list(sys.path))  # install() puts the env first on sys.path
    from datadive_server_ext.environments.piprecord import install

    shared = project(tmp_path, "Shared", "tinypkg==1.0\n", writable=False)
    state = envs.state_file(shared)
    write_json(
        state, {"project_dir": str(shared.dir), "writable": False, "sources": sources.to_json()}
    )
    said: list[str] = []
    assert not install(
        "install --index-url https://evil.example/simple tinytop", state, said.append
    )
    assert "not --index-url" in said[-1]
    assert install("install -q tinytop", state, said.append)
    assert "for this kernel only: you are a viewer" in said[-1]
    assert (shared.dir / spec.REQUIREMENTS).read_text() == "tinypkg==1.0\n"
    assert not (shared.dir / spec.LOCK).exists()


async def test_prune_removes_unused_environments_and_dead_builds(tmp_path, envs, sources, capsys):
    import os
    import time

    from datadive_server_ext.environments import prune

    used = (await build(envs, project(tmp_path, "One", "tinypkg==1.0\n")))["environment"]["key"]
    idle = (await build(envs, project(tmp_path, "Two", "tinypkg==2.0\n")))["environment"]["key"]
    dead = envs.cache.root / ".building-abc-1234"  # a server killed mid-build
    dead.mkdir()
    long_ago = time.time() - 40 * 86400
    for path in (
        envs.cache.path(idle) / "last-used",
        envs.cache.path(idle) / "datadive-env.json",
        dead,
    ):
        os.utime(path, (long_ago, long_ago))
    prune.main([str(sources.cache_dir), "--dry-run"])
    assert "would remove 2 folders" in capsys.readouterr().out
    assert prune.prune(sources.cache_dir, unused_days=30) == [".building-abc-1234", idle]
    assert [p.name for p in envs.cache.root.iterdir()] == [used]
    # a project that needs it again builds it again
    again = await build(envs, project(tmp_path, "Two", None))
    assert again["environment"]["key"] == idle and "built in" in again["build"]["log"]
