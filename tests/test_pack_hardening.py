"""Repository packing attacked through a real server: its own process, real HTTP, real git
repositories (a loopback `git http-backend` and local trees), the real store.

Each test names the point of issue 8 it proves. Two servers share one home: `strict`
runs with the defaults (internal addresses refused), `allowing` may reach the loopback
git server, carries a server token for it (CODIFIER_TOKEN_HOSTS) usable only for
127.0.0.1/acme, runs with hooks planted in its global git config, a 1 MiB disk budget
per pack and a 4 s clone timeout.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from codifier.packer import PackError, pack
from codifier.packer.clone import parse_remote
from codifier.packer.network import REFUSED, is_public
from codifier.packer.settings import PackSettings
from codifier.packer.workspace import ENV_MARKER, PREFIX, clean_stale, workspace
from tests.server_harness import (
    ADMIN_TOKEN,
    ROOT,
    ServerProcess,
    ToolCallFailed,
    call,
    free_port,
    http_client,
    polling_health,
    running,
)
from tests.test_packer import BASIC, SECRET, GitServer, git, make_repo, serve, write_tree

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
OUTSIDE_SECRET = "OUTSIDE-THE-ROOT-" + "7f3a9c"


@dataclass
class World:
    base: Path
    roots: Path  # CODIFIER_PACK_ROOTS of both servers
    outside: Path  # a folder outside the roots, holding OUTSIDE_SECRET
    markers: Path  # hooks and hostile configs touch files here
    git: GitServer
    strict_workdir: Path
    allowing_workdir: Path


def bare(base: Path, name: str, files: dict[str, bytes]) -> None:
    work = base / f"{name}-work"
    work.mkdir(parents=True)
    git(work, "init", "-q", "-b", "main")
    write_tree(work, files)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "init")
    git(base, "clone", "-q", "--bare", str(work), str(base / "root" / f"{name}.git"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("hardening")
    make_repo(base / "work")
    git(base, "clone", "-q", "--bare", str(base / "work"), str(base / "root" / "repo.git"))
    # 20 MB that do not compress: a clone that fetched it would show it in the bytes sent.
    bare(base, "big", {"big.bin": os.urandom(20 * MIB), "small.py": b"X = 1\n"})
    # 12 x 320 KiB of hex (about 1.9 MB packed): each file under the file limit,
    # together past a 1 MiB disk budget.
    parts = {f"part{i:02}.txt": os.urandom(160 * 1024).hex().encode() for i in range(12)}
    bare(base, "many", parts)
    outside = base / "outside"
    write_tree(outside, {"settings.txt": f"{OUTSIDE_SECRET}\n".encode()})
    markers = base / "markers"
    markers.mkdir()
    server = GitServer(base / "root")
    httpd = serve(server)
    try:
        yield World(
            base,
            base / "roots",
            outside,
            markers,
            server,
            base / "strict-packs",
            base / "allowing-packs",
        )
    finally:
        server.release.set()
        httpd.shutdown()
        httpd.server_close()


def hostile_global_config(world: World) -> Path:
    """A global git config, as the server user might have, whose hooks would mark."""
    hooks = world.base / "global-hooks"
    hooks.mkdir(exist_ok=True)
    for name in ("post-checkout", "post-merge", "reference-transaction", "pre-auto-gc"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\ntouch {world.markers}/global-{name}\n")
        hook.chmod(0o755)
    templates = world.base / "templates"
    (templates / "hooks").mkdir(parents=True, exist_ok=True)
    post = templates / "hooks" / "post-checkout"
    post.write_text(f"#!/bin/sh\ntouch {world.markers}/template-post-checkout\n")
    post.chmod(0o755)
    config = world.base / "global.gitconfig"
    config.write_text(
        f"[core]\n\thooksPath = {hooks}\n[init]\n\ttemplateDir = {templates}\n"
        f"[core]\n\tfsmonitor = touch {world.markers}/global-fsmonitor; false\n"
    )
    return config


@pytest.fixture(scope="module")
def strict(server_home: Path, world: World) -> Iterator[ServerProcess]:
    extra = {
        "CODIFIER_PACK_ROOTS": str(world.roots),
        "CODIFIER_PACK_WORKDIR": str(world.strict_workdir),
    }
    with running(server_home, extra=extra) as process:
        yield process


@pytest.fixture(scope="module")
def allowing(server_home: Path, world: World) -> Iterator[ServerProcess]:
    extra = {
        "CODIFIER_PACK_ROOTS": str(world.roots),
        "CODIFIER_PACK_WORKDIR": str(world.allowing_workdir),
        "CODIFIER_PACK_ALLOW_HOSTS": "127.0.0.1",
        "CODIFIER_TOKEN_HOSTS": "127.0.0.1=LOOPBACK_GIT_TOKEN",
        "LOOPBACK_GIT_TOKEN": SECRET,
        "CODIFIER_TOKEN_OWNERS": "127.0.0.1/acme",
        "CODIFIER_PACK_DISK_BYTES": str(MIB),
        "CODIFIER_PACK_TIMEOUT": "4",
        "GIT_CONFIG_GLOBAL": str(hostile_global_config(world)),
    }
    with running(server_home, extra=extra) as process:
        yield process


async def new_project(url: str) -> str:
    async with http_client(url, ADMIN_TOKEN) as admin:
        name = f"pack-{uuid.uuid4().hex[:8]}"
        created = await call(admin, "manage_projects", operation="create", name=name)
    return str(created["project"]["id"])


async def pack_repo(
    server: ServerProcess, project: str, url: str, **args: object
) -> dict[str, Any]:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        return await call(client, "pack_repo", url=url, project_id=project, **args)


async def pack_error(server: ServerProcess, project: str, url: str, **args: object) -> str:
    async with http_client(server.url, ADMIN_TOKEN) as client:
        with pytest.raises(ToolCallFailed) as failed:
            await call(client, "pack_repo", url=url, project_id=project, **args)
    return str(failed.value)


async def snapshot_text(server: ServerProcess, uri: str) -> str:
    pages: list[str] = []
    async with http_client(server.url, ADMIN_TOKEN) as client:
        while True:
            result = await client.read_resource(uri)
            text = result.contents[0].text  # type: ignore[union-attr]
            header, _, body = text.partition("\n")
            pages.append(body)
            if "last page" in header:
                return "".join(pages)
            uri = header.split("read ", 1)[1].split(" next", 1)[0]


def marked_processes(workdir: Path) -> list[int]:
    """Processes whose environment says they work for a pack folder under `workdir`."""
    prefix = f"{ENV_MARKER}={workdir}/".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                environ = (entry / "environ").read_bytes().split(b"\0")
                if any(item.startswith(prefix) for item in environ):
                    found.append(int(entry.name))
    return found


def pack_folders(workdir: Path) -> list[Path]:
    return sorted(workdir.glob(f"{PREFIX}*")) if workdir.is_dir() else []


# --- 1. no pattern can stall the server ---------------------------------------------------


async def test_a_backtracking_pattern_does_not_stall_the_server(
    strict: ServerProcess, world: World
) -> None:
    tree = world.roots / "patterns"
    write_tree(tree, {"a" * 29: b"a\n", "src/main.py": b"print(1)\n"})
    project = await new_project(strict.url)
    with polling_health(strict) as health:
        started = time.monotonic()
        result = await pack_repo(strict, project, str(tree), include=["a*" * 20 + "b"])
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert set(health.statuses) == {200}
    assert max(health.latencies) < 1, health.latencies
    assert result["file_count"] == 0  # nothing matches: a name of a's has no b


async def test_patterns_are_bounded_in_count_and_length(
    strict: ServerProcess, world: World
) -> None:
    tree = world.roots / "bounded"
    write_tree(tree, {"a.py": b"A = 1\n"})
    project = await new_project(strict.url)
    many = await pack_error(strict, project, str(tree), include=["*.py"] * 40, exclude=["x"] * 25)
    assert many.startswith("[invalid] include and exclude hold 65 patterns; at most 64")
    long = await pack_error(strict, project, str(tree), exclude=["a" * 257])
    assert long.startswith("[invalid] exclude[0] is 257 characters long; patterns are limited")
    smuggled = await pack_error(strict, project, str(tree), include=["*.py\n!a.py"])
    assert smuggled.startswith("[invalid] include[0] holds a line break")
    fits = await pack_repo(strict, project, str(tree), include=["*.py"] * 30, exclude=["b" * 256])
    assert fits["file_count"] == 1


# --- 2. a packed local tree never runs its own commands ----------------------------------


async def test_a_hostile_local_repository_config_runs_nothing(
    strict: ServerProcess, world: World
) -> None:
    repo = world.roots / "hostile"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"a.py": b"A = 1\n", ".gitattributes": b"* filter=evil diff=evil\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    hooks = repo / ".git" / "hooks"
    for name in ("post-index-change", "reference-transaction", "fsmonitor-watchman"):
        (hooks / name).write_text(f"#!/bin/sh\ntouch {world.markers}/local-hook-{name}\n")
        (hooks / name).chmod(0o755)
    m = world.markers
    config = {
        "core.fsmonitor": f"touch {m}/local-fsmonitor; false",
        "core.hooksPath": str(hooks),
        "core.pager": f"touch {m}/local-pager; cat",
        "filter.evil.clean": f"touch {m}/local-clean; cat",
        "filter.evil.smudge": f"touch {m}/local-smudge; cat",
        "filter.evil.process": f"touch {m}/local-process; false",
        "diff.evil.textconv": f"touch {m}/local-textconv; cat",
        "diff.external": f"touch {m}/local-diff-external",
        "core.sshCommand": f"touch {m}/local-ssh",
    }
    for key, value in config.items():
        git(repo, "config", key, value)
    (repo / "a.py").write_text("A = 2\n")  # a modified file: status would clean-filter it
    (repo / "untracked.py").write_text("B = 1\n")

    project = await new_project(strict.url)
    result = await pack_repo(strict, project, str(repo))
    assert result["file_count"] == 3  # .gitattributes, a.py, untracked.py
    text = await snapshot_text(strict, str(result["resource_uri"]))
    assert "A = 2" in text
    assert git(repo, "rev-parse", "HEAD").strip() in text  # HEAD read without git
    assert sorted(p.name for p in world.markers.glob("local-*")) == []


async def test_a_clone_runs_no_hook_of_the_servers_own_git_config(
    allowing: ServerProcess, world: World
) -> None:
    project = await new_project(allowing.url)
    result = await pack_repo(allowing, project, f"{world.git.url}/public.git")
    assert result["file_count"] > 0
    assert sorted(p.name for p in world.markers.iterdir() if not p.name.startswith("local-")) == []


# --- 3. symlinks stay inside the root -----------------------------------------------------


async def test_directories_replaced_by_symlinks_leak_nothing(
    strict: ServerProcess, world: World
) -> None:
    repo = world.roots / "linked"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    files = {"ok.txt": b"fine\n", "conf/settings.txt": b"committed\n", "etc/passwd": b"x\n"}
    write_tree(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    for directory, target in (("conf", world.outside), ("etc", Path("/etc"))):
        for child in (repo / directory).iterdir():
            child.unlink()
        (repo / directory).rmdir()
        (repo / directory).symlink_to(target, target_is_directory=True)
    (repo / "deep").mkdir()
    (repo / "deep" / "out").symlink_to(world.outside, target_is_directory=True)
    assert Path("/etc/passwd").read_text().startswith("root:")

    project = await new_project(strict.url)
    result = await pack_repo(strict, project, str(repo))
    text = await snapshot_text(strict, str(result["resource_uri"]))
    assert "## ok.txt" in text
    assert OUTSIDE_SECRET not in text
    assert "root:" not in text
    assert "- conf/settings.txt: symlink" in text
    assert "- etc/passwd: symlink" in text

    # The root itself a link to a folder outside the roots: refused outright.
    (world.roots / "escape").symlink_to(world.outside, target_is_directory=True)
    refused = await pack_error(strict, project, str(world.roots / "escape"))
    assert refused.startswith("[invalid] ")
    assert "CODIFIER_PACK_ROOTS" in refused


async def test_a_source_like_an_scp_url_is_still_a_local_path(strict: ServerProcess) -> None:
    # Relative to the server's working directory, where the old code opened it.
    name = f"git@leak-{uuid.uuid4().hex[:8]}"
    folder = ROOT / name
    write_tree(folder, {"secret.txt": f"{OUTSIDE_SECRET}\n".encode()})
    try:
        project = await new_project(strict.url)
        error = await pack_error(strict, project, name)
    finally:
        (folder / "secret.txt").unlink()
        folder.rmdir()
    assert error.startswith(f"[invalid] '{name}' is not a repository URL")
    assert "CODIFIER_PACK_ROOTS" in error


# --- 4. no server-side request forgery -----------------------------------------------------


async def test_internal_addresses_are_refused_alike(strict: ServerProcess, world: World) -> None:
    world.git.requests.clear()
    port = world.git.port
    project = await new_project(strict.url)
    urls = [
        f"http://127.0.0.1:{port}/public.git",  # open, a real git server
        f"http://127.0.0.1:{free_port()}/public.git",  # closed
        f"http://localhost:{port}/public.git",  # a name resolving to loopback
        f"http://[::1]:{port}/public.git",
        f"http://[::ffff:127.0.0.1]:{port}/public.git",  # v4-mapped
        f"http://0.0.0.0:{port}/public.git",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
        "http://10.0.0.1/x.git",
        "https://192.168.1.1/x.git",
        "http://name-that-does-not-resolve.invalid/x.git",
        "git@127.0.0.1:acme/app.git",
    ]
    errors = {url: await pack_error(strict, project, url) for url in urls}
    generic = f"[invalid] {REFUSED}"
    assert errors[urls[0]] == errors[urls[1]] == generic
    ssh = errors.pop(urls[-1])
    assert ssh.startswith("[invalid] could not clone git@127.0.0.1:acme/app.git: ssh uses")
    assert set(errors.values()) == {generic}
    assert world.git.requests == []  # nothing reached the git server


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.2", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),  # shared (CGNAT)
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fd00::1", False),  # unique local
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),  # v4-mapped
        ("2002:a00:1::", False),  # 6to4 around 10.0.0.1
        ("64:ff9b::7f00:1", False),  # NAT64 around 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo around 10.0.0.1
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_hosts_that_are_syntax_are_not_urls() -> None:
    for url in ("ssh://x;touch${IFS}p/r.git", "git@-oProxyCommand:r.git", "https://a b/r"):
        with pytest.raises(PackError, match=r"^not a repository URL"):
            parse_remote(url)


def test_ssh_to_an_internal_address_is_refused_even_for_owners(tmp_path: Path) -> None:
    settings = PackSettings.from_env(
        {"CODIFIER_TOKEN_OWNERS": "127.0.0.1", "CODIFIER_PACK_WORKDIR": str(tmp_path)}
    )
    with pytest.raises(PackError) as refused:
        pack("git@127.0.0.1:acme/app.git", settings=settings)
    assert str(refused.value) == REFUSED


async def test_a_redirect_to_a_refused_host_is_not_followed(
    allowing: ServerProcess, world: World
) -> None:
    world.git.requests.clear()
    project = await new_project(allowing.url)
    error = await pack_error(allowing, project, f"{world.git.url}/elsewhere.git")
    assert error == f"[invalid] {REFUSED}"
    hosts = {host.partition(":")[0] for host, _, _ in world.git.requests}
    assert hosts == {"127.0.0.1"}  # the redirect to localhost was never followed
    # A redirect within the allowed host is followed (a renamed repository).
    renamed = await pack_repo(allowing, project, f"{world.git.url}/acme/renamed.git")
    assert renamed["file_count"] > 0


# --- 5. bounded downloads and disk ---------------------------------------------------------


async def test_a_large_blob_is_never_downloaded(allowing: ServerProcess, world: World) -> None:
    world.git.sent = 0
    project = await new_project(allowing.url)
    result = await pack_repo(allowing, project, f"{world.git.url}/big.git")
    assert result["file_count"] == 1
    assert world.git.sent < 2 * MIB  # the 20 MB blob stayed on the server
    text = await snapshot_text(allowing, str(result["resource_uri"]))
    assert "- big.bin: too-large" in text


async def test_a_clone_past_the_disk_budget_is_stopped_and_removed(
    allowing: ServerProcess, world: World
) -> None:
    project = await new_project(allowing.url)
    error = await pack_error(allowing, project, f"{world.git.url}/many.git")
    assert error == (
        f"[invalid] could not clone {world.git.url}/many.git: used more than the"
        " 1,048,576-byte disk budget"
    )
    assert pack_folders(world.allowing_workdir) == []


async def test_a_stalled_clone_is_killed_at_the_timeout(
    allowing: ServerProcess, world: World
) -> None:
    world.git.stalled.clear()
    world.git.release.clear()
    project = await new_project(allowing.url)
    started = time.monotonic()
    with anyio.fail_after(30):
        error = await pack_error(allowing, project, f"{world.git.url}/stall.git")
    assert error == f"[invalid] could not clone {world.git.url}/stall.git: timed out after 4 s"
    assert time.monotonic() - started < 15
    assert world.git.stalled.is_set()
    assert marked_processes(world.allowing_workdir) == []
    assert pack_folders(world.allowing_workdir) == []
    world.git.release.set()


async def test_a_killed_servers_clone_is_gone_after_the_next_start(
    server_home: Path, world: World
) -> None:
    workdir = world.base / "killed-packs"
    extra = {
        "CODIFIER_PACK_WORKDIR": str(workdir),
        "CODIFIER_PACK_ALLOW_HOSTS": "127.0.0.1",
    }
    world.git.stalled.clear()
    world.git.release.clear()
    first = ServerProcess(server_home, extra=extra).start()
    try:
        project = await new_project(first.url)

        async def pack_until_killed() -> None:
            with contextlib.suppress(Exception):
                await pack_repo(first, project, f"{world.git.url}/stall.git")

        async with anyio.create_task_group() as group:
            group.start_soon(pack_until_killed)
            assert await anyio.to_thread.run_sync(world.git.stalled.wait, 20)
            assert len(pack_folders(workdir)) == 1  # the clone is under way
            assert marked_processes(workdir)
            first.kill()
            group.cancel_scope.cancel()
    finally:
        first.stop()
    assert len(pack_folders(workdir)) == 1  # SIGKILL: nothing of the server cleaned up

    with running(server_home, extra=extra) as second:
        # (Cleaned at start once wired; at the latest before the next pack.)
        project = await new_project(second.url)
        result = await pack_repo(second, project, f"{world.git.url}/public.git")
        assert result["file_count"] > 0
        assert pack_folders(workdir) == []
        assert marked_processes(workdir) == []
    world.git.release.set()


def test_a_cancelled_pack_kills_its_clone(world: World, tmp_path: Path) -> None:
    """The cancel flag a server sets when its client goes away (no server: a thread)."""
    world.git.stalled.clear()
    world.git.release.clear()
    settings = PackSettings(
        allow_hosts=PackSettings.from_env({"CODIFIER_PACK_ALLOW_HOSTS": "127.0.0.1"}).allow_hosts,
        workdir=tmp_path / "packs",
    )
    cancel = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            pack(f"{world.git.url}/stall.git", settings=settings, cancel=cancel)
        except PackError as error:
            failure.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    assert world.git.stalled.wait(20)
    assert marked_processes(settings.workdir)
    cancel.set()
    worker.join(10)
    assert not worker.is_alive()
    assert str(failure[0]).endswith(": cancelled")
    assert marked_processes(settings.workdir) == []
    assert pack_folders(settings.workdir) == []
    world.git.release.set()


def test_clean_stale_keeps_live_folders_and_removes_dead_ones(tmp_path: Path) -> None:
    dead = tmp_path / f"{PREFIX}dead"
    (dead / "repo.git").mkdir(parents=True)
    (dead / ".lock").touch()
    unrelated = tmp_path / "keep-me"
    unrelated.mkdir()
    with workspace(tmp_path) as live:
        assert clean_stale(tmp_path) == [dead]
        assert live.path.is_dir()
    assert sorted(tmp_path.iterdir()) == [unrelated]


# --- 6. server tokens serve only the team's own repositories ------------------------------


def authorizations_for(world: World, owner: str) -> set[str | None]:
    return {auth for _, path, auth in world.git.requests if path.startswith(f"/{owner}/")}


async def test_server_tokens_go_only_to_listed_owners(
    allowing: ServerProcess, world: World
) -> None:
    world.git.requests.clear()
    project = await new_project(allowing.url)
    ours = await pack_repo(allowing, project, f"{world.git.url}/acme/private.git")
    assert ours["file_count"] > 0
    assert BASIC in authorizations_for(world, "acme")

    error = await pack_error(allowing, project, f"{world.git.url}/other/private.git")
    assert error.startswith(f"[invalid] could not clone {world.git.url}/other/private.git: ")
    assert SECRET not in error
    assert authorizations_for(world, "other") == {None}
    # A path that leaves the owner once normalised is not the owner's.
    await pack_error(allowing, project, f"{world.git.url}/acme/../other/private.git")
    assert authorizations_for(world, "other") == {None}


def test_without_owners_a_token_is_used_for_no_repository(world: World, tmp_path: Path) -> None:
    world.git.requests.clear()
    settings = PackSettings.from_env(
        {"CODIFIER_PACK_ALLOW_HOSTS": "127.0.0.1", "CODIFIER_PACK_WORKDIR": str(tmp_path)}
    )
    assert settings.token_owners == ()
    with pytest.raises(PackError):
        pack(f"{world.git.url}/acme/private.git", tokens={"127.0.0.1": SECRET}, settings=settings)
    assert authorizations_for(world, "acme") == {None}
    # The bare host is the explicit "every repository there" (the old behaviour).
    everywhere = PackSettings.from_env(
        {
            "CODIFIER_PACK_ALLOW_HOSTS": "127.0.0.1",
            "CODIFIER_PACK_WORKDIR": str(tmp_path),
            "CODIFIER_TOKEN_OWNERS": "127.0.0.1",
        }
    )
    result = pack(
        f"{world.git.url}/x/private.git", tokens={"127.0.0.1": SECRET}, settings=everywhere
    )
    assert result.file_count > 0


# --- 16 (part). per-project quota on stored snapshot bytes --------------------------------


async def test_snapshot_bytes_are_bounded_per_project(server_home: Path, world: World) -> None:
    url = f"{world.git.url}/public.git"
    settings = PackSettings.from_env(
        {"CODIFIER_PACK_ALLOW_HOSTS": "127.0.0.1", "CODIFIER_PACK_WORKDIR": str(world.base / "q")}
    )
    size = len(pack(url, settings=settings).text.encode())
    extra = {
        "CODIFIER_PACK_ALLOW_HOSTS": "127.0.0.1",
        "CODIFIER_PACK_WORKDIR": str(world.base / "quota-packs"),
        "CODIFIER_PROJECT_SNAPSHOT_BYTES": str(size * 3 // 2),
    }
    with running(server_home, extra=extra) as server:
        project = await new_project(server.url)
        first = await pack_repo(server, project, url)
        assert first["version"] == 1
        error = await pack_error(server, project, url)
        assert error.startswith(f"[quota] this snapshot has {size:,} bytes and the project")
        assert "CODIFIER_PROJECT_SNAPSHOT_BYTES" in error
        other = await new_project(server.url)  # the quota is per project
        assert (await pack_repo(server, other, url))["version"] == 1
