"""Repository packing on real git repositories and real files, no mocks.

The remote tests serve a bare repository with `git http-backend` behind a small HTTP
server on 127.0.0.1 that records every Authorization header it receives.
"""

from __future__ import annotations

import ast
import base64
import inspect
import os
import shutil
import stat
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public  # type: ignore[import-untyped]

from codifier.packer import PackError, PackResult, pack
from codifier.packer.clone import parse_remote, scrub, token_for, tokens_from_env
from codifier.packer.secrets import redact
from codifier.packer.settings import Owner
from codifier.packer.tokens import (
    PAT_STR,
    RANKS_FILE,
    SPECIAL_TOKENS,
    count_tokens,
    encoding,
    load_ranks,
)

# Split so that packing this repository does not flag its own test data.
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
PEM_BEGIN = "-----BEGIN " + "RSA PRIVATE KEY-----"
PEM_END = "-----END " + "RSA PRIVATE KEY-----"
PEM = f"{PEM_BEGIN}\nMIIEowIBAAKCAQEA7bq9yQ0xVmRkL3hE2pTq8ZsWc\nJ4nXy6kV1u2bR9sQ0aA==\n{PEM_END}\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
MAX_FILE = 4096

# A repository exercising every listing rule. Comments say why each file is in or out.
TREE: dict[str, bytes] = {
    ".gitignore": b"*.log\n!keep.log\n/build\n",
    "app.py": b"def main() -> None:\n    print('hello')\n",
    "keep.log": b"kept: the negation re-includes it\n",  # in: !keep.log
    "debug.log": b"ignored\n",  # out: *.log
    "build/out.txt": b"ignored\n",  # out: /build is anchored at the root...
    "src/build/helper.py": b"X = 1\n",  # in: ...so a nested build/ stays
    "src/.gitignore": b"generated/\n*.tmp\n!trace.log\n",
    "src/trace.log": b"re-included by the nested .gitignore\n",  # in
    "src/generated/gen.py": b"ignored\n",  # out: nested generated/
    "src/cache.tmp": b"ignored\n",  # out: nested *.tmp
    "notes.tmp": b"the nested *.tmp does not reach the root\n",  # in
    "src/main.py": "greeting = 'héllo wörld, 世界'\n".encode(),
    "image.png": PNG,  # skipped: binary
    "big.txt": b"0123456789abcde\n" * (MAX_FILE // 16 + 1),  # skipped: too large
    "config/settings.py": f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\nREGION = "eu-west-1"\n'.encode(),
    "keys/deploy.pem": PEM.encode(),
}
UNTRACKED = {"docs/notes.md": b"# Notes\n\nNot committed, not ignored: packed.\n"}

LISTED = [
    ".gitignore",
    "app.py",
    "big.txt",
    "config/settings.py",
    "docs/notes.md",
    "image.png",
    "keep.log",
    "keys/deploy.pem",
    "notes.tmp",
    "src/.gitignore",
    "src/build/helper.py",
    "src/main.py",
    "src/trace.log",
]
SKIPPED = [("big.txt", "too-large"), ("image.png", "binary")]
PACKED = [path for path in LISTED if path not in dict(SKIPPED)]
FLAGGED = [("config/settings.py", "aws-access-key-id"), ("keys/deploy.pem", "private-key")]
LANGUAGES = {".py": "python", ".md": "markdown", ".pem": "", ".log": "", ".tmp": ""}
REDACTED = {
    "config/settings.py": (
        'AWS_ACCESS_KEY_ID = "[REDACTED aws-access-key-id]"\nREGION = "eu-west-1"\n'
    ),
    "keys/deploy.pem": "[REDACTED private-key]\n",
}


# --- helpers -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No user or system git config (global excludes, helpers) and no real tokens; the
    loopback git server reachable, and the server's tokens usable for it."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN", "BITBUCKET_TOKEN", "GIT_CONFIG_COUNT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODIFIER_PACK_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("CODIFIER_TOKEN_OWNERS", "127.0.0.1")
    monkeypatch.setenv("CODIFIER_PACK_WORKDIR", str(tmp_path_factory.getbasetemp() / "packs"))


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def make_repo(root: Path) -> str:
    """TREE committed, then UNTRACKED written; returns the commit."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write_tree(root, TREE)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    write_tree(root, UNTRACKED)
    return git(root, "rev-parse", "HEAD").strip()


def make_plain(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    write_tree(root, {**TREE, **UNTRACKED})


def expected_section(path: str, content: str) -> str:
    suffix = path[path.rfind(".") :] if "." in path.rpartition("/")[2][1:] else ""
    return f"## {path}\n\n```{LANGUAGES.get(suffix, '')}\n{content}```\n\n"


def expected_content(path: str) -> str:
    return REDACTED.get(path) or {**TREE, **UNTRACKED}[path].decode()


@pytest.fixture(scope="module")
def reference() -> tiktoken.Encoding:
    """o200k_base built from tiktoken's own definition, read (not run: it downloads)."""
    function = ast.parse(textwrap.dedent(inspect.getsource(tiktoken_ext.openai_public.o200k_base)))
    pat_str = expected_hash = None
    special: dict[str, int] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
            if name == "pat_str" and isinstance(value, ast.Call):
                pat_str = "|".join(ast.literal_eval(value.args[0]))
            if name == "special_tokens" and isinstance(value, ast.Dict):
                for key, rank in zip(value.keys, value.values, strict=True):
                    assert isinstance(key, ast.Name)
                    special[getattr(tiktoken_ext.openai_public, key.id)] = ast.literal_eval(rank)
        if isinstance(node, ast.keyword) and node.arg == "expected_hash":
            expected_hash = ast.literal_eval(node.value)
    assert pat_str
    assert expected_hash
    assert special
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", "")  # read the file in place, cache nothing
        ranks = tiktoken.load.load_tiktoken_bpe(str(RANKS_FILE), expected_hash=expected_hash)
    return tiktoken.Encoding(
        name="o200k_base", pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special
    )


# --- the encoding ------------------------------------------------------------------------


def test_shipped_encoding_is_tiktokens_o200k_base(reference: tiktoken.Encoding) -> None:
    # The reference loaded the shipped file with tiktoken's loader and tiktoken's pinned hash.
    assert load_ranks() == reference._mergeable_ranks
    assert reference._pat_str == PAT_STR
    assert reference._special_tokens == SPECIAL_TOKENS
    sample = "Hello world, héllo 世界! def f(x):\n\treturn x ** 2  # <|endoftext|>\r\n"
    assert encoding().encode_ordinary(sample) == reference.encode_ordinary(sample)
    # Pinned: the same ids gpt-tokenizer's o200k_base encoder gives.
    assert encoding().encode_ordinary("Hello world") == [13225, 2375]
    assert count_tokens(sample) == len(reference.encode_ordinary(sample))
    assert encoding() is encoding()  # built once


# --- listing, skipping, secrets, tokens --------------------------------------------------


def check_pack(result: PackResult, reference: tiktoken.Encoding) -> None:
    assert [f.path for f in result.files] == PACKED
    assert result.skipped == SKIPPED
    assert result.flagged_secrets == FLAGGED
    assert result.file_count == len(PACKED)
    assert not result.truncated
    for packed in result.files:
        section = expected_section(packed.path, expected_content(packed.path))
        assert section in result.text
        assert packed.tokens == len(reference.encode_ordinary(section)), packed.path
        assert packed.bytes == len({**TREE, **UNTRACKED}[packed.path])
    assert result.token_count == sum(f.tokens for f in result.files)
    ranked = sorted(result.files, key=lambda f: (-f.tokens, f.path))
    assert result.top_files == ranked[:10]
    # The secrets are gone from everything the result carries.
    assert AWS_KEY not in result.text
    assert "MIIEow" not in result.text
    assert AWS_KEY not in repr(result)
    for path, reason in SKIPPED:
        assert f"- {path}: {reason}" in result.text


def test_git_repository(tmp_path: Path, reference: tiktoken.Encoding) -> None:
    commit = make_repo(tmp_path / "repo")
    result = pack(tmp_path / "repo", max_file_bytes=MAX_FILE)
    check_pack(result, reference)
    assert result.commit == commit
    assert f"Commit: {commit}" in result.text
    assert "src/\n  .gitignore\n  build/\n    helper.py\n" in result.text  # the tree


def test_plain_directory_lists_the_same_files(tmp_path: Path, reference: tiktoken.Encoding) -> None:
    make_plain(tmp_path / "plain")
    result = pack(tmp_path / "plain", max_file_bytes=MAX_FILE)
    check_pack(result, reference)
    assert result.commit is None


def test_git_and_walk_agree_on_tricky_rules(tmp_path: Path) -> None:
    rules = {
        ".gitignore": b"logs/\n!logs/keep.txt\n*.o\n!/lib/*.o\ndoc/**/*.tmp\n\\#hash\n",
        "logs/keep.txt": b"out: its directory is excluded, so it cannot be re-included\n",
        "a.o": b"out\n",
        "lib/b.o": b"in: anchored negation\n",
        "lib/sub/c.o": b"out: /lib/*.o does not reach lib/sub\n",
        "doc/x/y/z.tmp": b"out\n",
        "doc/z.tmp": b"out: ** matches zero directories\n",
        "#hash": b"out: escaped #\n",
        "deep/er/.gitignore": b"*\n!.gitignore\n!keep.md\n",
        "deep/er/keep.md": b"in\n",
        "deep/er/drop.md": b"out\n",
    }
    in_git, plain = tmp_path / "git", tmp_path / "plain"
    in_git.mkdir()
    git(in_git, "init", "-q")
    write_tree(in_git, rules)
    write_tree(plain, rules)
    from_git = pack(in_git)
    assert from_git.commit is None  # no commits yet
    expected = [".gitignore", "deep/er/.gitignore", "deep/er/keep.md", "lib/b.o"]
    assert [f.path for f in from_git.files] == expected
    assert [f.path for f in pack(plain).files] == expected


def test_include_and_exclude(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")

    def paths(include: list[str] | None = None, exclude: list[str] | None = None) -> list[str]:
        result = pack(tmp_path / "repo", include=include, exclude=exclude)
        return [f.path for f in result.files]

    in_src = ["src/.gitignore", "src/build/helper.py", "src/main.py", "src/trace.log"]
    assert paths(include=["src/"]) == in_src
    python = ["app.py", "config/settings.py", "src/main.py"]
    assert paths(include=["*.py"], exclude=["src/build/"]) == python
    # big.txt is within the default 512 KiB; the PNG is excluded before it is read.
    rest = ["*.py", "*.log", "*.tmp", ".gitignore", "keys/", "*.png"]
    assert paths(exclude=rest) == ["big.txt", "docs/notes.md"]
    assert pack(tmp_path / "repo", exclude=rest).skipped == []


def test_progress_and_truncation(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    calls: list[tuple[int, int]] = []
    budget = len(TREE[".gitignore"]) + len(TREE["app.py"])
    result = pack(
        tmp_path / "repo",
        max_file_bytes=MAX_FILE,
        max_total_bytes=budget,
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert result.truncated
    assert [f.path for f in result.files] == [".gitignore", "app.py"]
    # big.txt is too large on its own; the rest did not fit in the budget.
    assert result.skipped[0] == ("big.txt", "too-large")
    assert {reason for _, reason in result.skipped[1:]} == {"over-total-limit"}
    assert [p for p, _ in result.skipped] == LISTED[2:]
    assert "Truncated" in result.text
    assert calls[0] == (0, len(LISTED))
    assert calls[-1] == (len(LISTED), len(LISTED))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_text_decoding_never_blanks_a_file(tmp_path: Path) -> None:
    # Multibyte characters straddling 1024 and 8192 bytes, and one invalid byte.
    content = "a" * 1023 + "é" + "b" * (8191 - 1025) + "世界" + "\n"
    assert content.encode()[8191:8194] == "世".encode()
    write_tree(tmp_path, {"u.txt": content.encode(), "bad.txt": b"ok \xff ok\n"})
    result = pack(tmp_path)
    assert result.text.count(content) == 1
    assert "ok \ufffd ok\n" in result.text
    assert result.skipped == []


def test_fences_outlast_backticks_in_content_and_symlinks_are_skipped(tmp_path: Path) -> None:
    write_tree(tmp_path, {"README.md": b"```python\nx = 1\n```\n", "plain": b"x\n"})
    (tmp_path / "link").symlink_to("/etc/hostname")
    result = pack(tmp_path)
    assert "## README.md\n\n````markdown\n```python\nx = 1\n```\n````\n" in result.text
    assert result.skipped == [("link", "symlink")]


def test_a_bogus_git_directory_is_walked_and_skipped(tmp_path: Path) -> None:
    write_tree(tmp_path, {".git/config": b"not a repository\n", "a.txt": b"a\n"})
    result = pack(tmp_path)
    assert [f.path for f in result.files] == ["a.txt"]
    assert result.commit is None


def test_missing_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PackError, match=r"^not a directory: .*nope$"):
        pack(tmp_path / "nope")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"key={AWS_KEY}", "aws-access-key-id"),
        ("t = 'ghp_" + "a1B2" * 9 + "'", "github-token"),
        ("t = github_pat_" + "11ABCDEFG0_" + "x" * 40, "github-fine-grained-token"),
        ("xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx", "slack-token"),
        ("k = AIza" + "SyA1234567890abcdefghijklmnopqrstuv", "google-api-key"),
        ('"' + PEM_BEGIN + "\\nMIIEowIBAAKCAQEA7bq9yQ\\n" + PEM_END + '\\n"', "private-key"),
        ("-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "private-key"),
    ],
)
def test_secret_kinds_are_redacted(text: str, kind: str) -> None:
    scan = redact(text)
    assert scan.kinds == (kind,)
    assert f"[REDACTED {kind}]" in scan.text
    assert "1234567890" not in scan.text
    assert "MIIE" not in scan.text
    assert "b3Bl" not in scan.text


@pytest.mark.parametrize(
    "text",
    [
        "AKIA_PLACEHOLDER and XAKIAIOSFODNN7EXAMPLEX",
        "token = 'ghp_xxx'  # short",
        "SLACK_TOKEN = 'xoxb-your-token-here'",
        "if line.startswith('-----BEGIN' + ' PRIVATE KEY-----'):",
        "password = 'hunter2'; SECRET_KEY = os.environ['SECRET_KEY']",
    ],
)
def test_placeholders_are_not_secrets(text: str) -> None:
    assert redact(text).kinds == ()


def test_a_pem_parser_keeps_its_code() -> None:
    code = f"if line == '{PEM_BEGIN}':\n    start_of_block_marker_seen = True\n"
    scan = redact(code)
    assert (
        scan.text == "if line == '[REDACTED private-key]':\n    start_of_block_marker_seen = True\n"
    )


# --- remotes -----------------------------------------------------------------------------


def test_remote_urls() -> None:
    https = parse_remote("https://user:pw@GitHub.com:443/owner/repo.git")
    assert https is not None
    assert (https.host, https.origin) == ("github.com", "https://GitHub.com:443")
    assert https.display == "https://GitHub.com:443/owner/repo.git"
    scp = parse_remote("git@gitlab.com:group/sub/repo.git")
    assert scp is not None
    assert (scp.scheme, scp.host) == ("ssh", "gitlab.com")
    assert parse_remote("./some/dir") is None
    assert parse_remote("/abs/dir") is None
    assert parse_remote("dir:with/colon") is None


def test_tokens_map_to_their_hosts_only() -> None:
    env = {"GITHUB_TOKEN": "gh", "GITLAB_TOKEN": "gl", "BITBUCKET_TOKEN": "bb", "OTHER": "x"}
    assert tokens_from_env(env) == {"github.com": "gh", "gitlab.com": "gl", "bitbucket.org": "bb"}
    tokens = tokens_from_env(env)
    everywhere = tuple(Owner(host, ()) for host in tokens)

    def token(url: str) -> str | None:
        remote = parse_remote(url)
        assert remote is not None
        return token_for(remote, tokens, everywhere)

    assert token("https://github.com/o/r") == "gh"
    assert token("https://gitlab.com/g/r.git") == "gl"
    assert token("https://bitbucket.org/w/r.git") == "bb"
    assert token("https://api.github.com/o/r") is None
    assert token("https://github.com.evil.test/o/r") is None
    assert token("https://evil.test/github.com/o/r") is None
    assert token("http://github.com/o/r") is None  # never in clear text
    assert token("git@github.com:o/r.git") is None  # ssh uses keys
    loopback = parse_remote("http://127.0.0.1:8080/r.git")
    assert loopback is not None
    assert token_for(loopback, {"127.0.0.1": "t"}, (Owner("127.0.0.1", ()),)) == "t"


def test_scrub_removes_every_form_of_the_token() -> None:
    remote = parse_remote("https://me:pw@github.com/o/r.git")
    assert remote is not None
    basic = base64.b64encode(b"x-access-token:tok/en").decode()
    text = f"https://me:pw@github.com/o/r.git tok/en tok%2Fen {basic}"
    assert scrub(text, remote, ["tok/en", basic, "tok%2Fen"]) == (
        "https://github.com/o/r.git *** *** ***"
    )


SECRET = "secret-token"
BASIC = "Basic " + base64.b64encode(f"x-access-token:{SECRET}".encode()).decode()


@dataclass
class GitServer:
    """`git http-backend` on 127.0.0.1, recording (host, path, Authorization) per request.

    /public.git serves anonymously; /private.git answers 401 until the right credentials
    come; /leak.git echoes the credentials it got in a git protocol error; /renamed.git
    redirects to /private.git on the same host, /elsewhere.git to localhost (another host
    name for the same server); /stall.git serves the refs, then holds the fetch until
    `release` is set. Segments before the `*.git` one are owners and groups, ignored
    (/acme/private.git is /private.git). Any other `*.git` is that bare repository under
    `root`. `sent` counts the response bytes.
    """

    root: Path
    port: int = 0
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    sent: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def serve(server: GitServer) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the response ends when the connection closes

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.handle_git()

        def do_POST(self) -> None:
            self.handle_git()

        def reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            server.sent += len(body)

        def handle_git(self) -> None:
            path, _, query = self.path.partition("?")
            auth = self.headers.get("Authorization")
            server.requests.append((self.headers.get("Host", ""), path, auth))
            segments = path[1:].split("/")
            at = next((i for i, s in enumerate(segments) if s.endswith(".git")), 0)
            repo, rest = segments[at], "/".join(segments[at + 1 :])
            suffix = rest + ("?" + query if query else "")
            if repo == "stall.git" and self.command == "POST":
                server.stalled.set()
                server.release.wait(120)
                return None  # the connection closes without an answer
            if repo == "renamed.git":
                owner = "".join(f"{segment}/" for segment in segments[:at])
                where = f"{server.url}/{owner}private.git/{suffix}"
                return self.reply(301, {"Location": where})
            if repo == "elsewhere.git":
                where = f"http://localhost:{server.port}/private.git/{suffix}"
                return self.reply(301, {"Location": where})
            if repo in ("private.git", "leak.git") and auth != BASIC:
                return self.reply(401, {"WWW-Authenticate": 'Basic realm="test"'})
            if repo == "leak.git":
                line = f"ERR got {auth} = {base64.b64decode(BASIC[6:]).decode()}\n".encode()
                body = b"001e# service=git-upload-pack\n0000" + b"%04x" % (len(line) + 4) + line
                kind = "application/x-git-upload-pack-advertisement"
                return self.reply(200, {"Content-Type": kind}, body)
            served = "repo.git" if repo in ("public.git", "private.git", "stall.git") else repo
            self.cgi(f"/{served}/{rest}", query)

        def cgi(self, path_info: str, query: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            env = {
                "PATH": os.environ["PATH"],
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "GIT_CONFIG_NOSYSTEM": "1",
                # Partial clones: the packer asks for blobs under its size limit only.
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "uploadpack.allowFilter",
                "GIT_CONFIG_VALUE_0": "true",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path_info,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": "127.0.0.1",
            }
            for header, variable in [
                ("Git-Protocol", "HTTP_GIT_PROTOCOL"),
                ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
            ]:
                if header in self.headers:
                    env[variable] = self.headers[header]
            out = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, check=True
            ).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            status, headers = 200, {}
            for line in head.decode().split("\r\n"):
                name, _, value = line.partition(": ")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers[name] = value
            self.reply(status, headers, payload)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.port = httpd.server_port
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GitServer, str]]:
    base = tmp_path_factory.mktemp("served")
    commit = make_repo(base / "work")
    git(base, "clone", "-q", "--bare", str(base / "work"), str(base / "root" / "repo.git"))
    server = GitServer(base / "root")
    httpd = serve(server)
    yield server, commit
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(served: tuple[GitServer, str]) -> GitServer:
    served[0].requests.clear()
    return served[0]


def authorizations(server: GitServer) -> set[str | None]:
    return {auth for _, _, auth in server.requests}


def test_clone_sends_the_token_to_its_host(
    server: GitServer, served: tuple[GitServer, str], reference: tiktoken.Encoding
) -> None:
    result = pack(
        f"{server.url}/private.git", tokens={"127.0.0.1": SECRET}, max_file_bytes=MAX_FILE
    )
    assert authorizations(server) == {None, BASIC}  # 401 first, then the credentials
    assert result.commit == served[1]
    assert result.source == f"{server.url}/private.git"
    # Untracked files of the served work tree are not in the repository.
    assert [f.path for f in result.files] == [p for p in PACKED if p not in UNTRACKED]
    assert result.flagged_secrets == FLAGGED


def test_a_public_repository_never_sees_the_token(server: GitServer) -> None:
    result = pack(f"{server.url}/public.git", tokens={"127.0.0.1": SECRET})
    assert result.file_count > 0
    assert authorizations(server) == {None}


def test_a_token_for_another_host_is_not_sent(server: GitServer) -> None:
    with pytest.raises(PackError) as error:
        pack(f"{server.url}/private.git", tokens={"github.com": SECRET, "localhost": SECRET})
    assert authorizations(server) == {None}
    message = str(error.value)
    assert message.startswith(f"could not clone {server.url}/private.git: ")
    assert "\n" not in message


def test_a_redirect_within_the_host_keeps_the_token(server: GitServer) -> None:
    result = pack(f"{server.url}/renamed.git", tokens={"127.0.0.1": SECRET})
    assert result.file_count > 0
    assert BASIC in authorizations(server)


def test_a_redirect_to_another_host_gets_no_token(
    server: GitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODIFIER_PACK_ALLOW_HOSTS", "127.0.0.1,localhost")
    with pytest.raises(PackError):
        pack(f"{server.url}/elsewhere.git", tokens={"127.0.0.1": SECRET})
    elsewhere = {auth for host, _, auth in server.requests if host.startswith("localhost")}
    assert elsewhere == {None}
    assert len(server.requests) >= 2  # the redirect was followed


def test_error_text_never_carries_the_token(server: GitServer) -> None:
    with pytest.raises(PackError) as error:
        pack(f"{server.url}/leak.git", tokens={"127.0.0.1": SECRET})
    message = str(error.value)
    assert "remote error: got Basic *** = x-access-token:***" in message
    assert SECRET not in message
    assert BASIC[6:] not in message
    assert "\n" not in message


def test_missing_repository_is_one_line(server: GitServer) -> None:
    with pytest.raises(PackError, match=r"^could not clone .*/missing\.git: .*not found$"):
        pack(f"{server.url}/missing.git", tokens={})


def test_the_token_is_never_on_a_command_line(
    server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every git the packer starts goes through a wrapper that logs its arguments."""
    real_git = shutil.which("git")
    assert real_git
    log = tmp_path / "argv.log"
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real_git}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    pack(f"{server.url}/private.git", tokens={"127.0.0.1": SECRET})
    with pytest.raises(PackError):
        pack(f"{server.url}/leak.git", tokens={"127.0.0.1": SECRET})
    argv = log.read_text()
    assert argv.count("clone --depth 1 --no-tags") == 2
    assert "ls-tree" in argv  # the clone's files are read from its objects
    assert SECRET not in argv
    assert BASIC[6:] not in argv
    assert BASIC in authorizations(server)  # and yet it was sent


def test_a_nested_repository_is_one_entry_either_way(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q")
    write_tree(outer, {"a.txt": b"a\n", "inner/b.txt": b"b\n"})
    git(outer / "inner", "init", "-q")
    listed = pack(outer)
    assert [f.path for f in listed.files] == ["a.txt"]
    assert listed.skipped == [("inner/", "not-a-file")]
    shutil.rmtree(outer / ".git")
    assert pack(outer).skipped == listed.skipped


def test_environment_tokens_stay_with_their_hosts(
    server: GitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN", "BITBUCKET_TOKEN"):
        monkeypatch.setenv(name, SECRET)
    with pytest.raises(PackError) as error:
        pack(f"{server.url}/private.git")  # tokens=None: read from the environment
    assert authorizations(server) == {None}
    assert SECRET not in str(error.value)
