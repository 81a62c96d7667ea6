#!/usr/bin/env python3
"""What operators read must be true: README.md and docs/ checked against the running binaries.

Rules (each failure is one line naming the file and what is wrong):
  metrics  a metric named in README.md or docs/ that a spawned dcdir-server (after reports, a
           cross-border fallback, a tenant change, the audit log on) does not export, or a label
           the family does not have; an exported metric that docs/CONTRACT.md does not list.
  reasons  a reason-shaped string literal in service/api/ or service/core/ that the catalogue
           (service/api/reasons.h) lacks; a catalogue token that docs/CONTRACT.md does not list
           with the same gRPC code, or a listed one the catalogue lacks; a client library token
           (clients/cpp/) not listed in docs/CONTRACT.md; a catalogue token without an entry in
           the CLI's hint table (kReasonHints, clients/cli/exit_codes.cc), an entry naming no
           catalogue token, or one named twice; a token README.md's errors paragraph (the one
           naming `dcdir-error-reason`) gives that neither the catalogue nor the client library
           has.
  flags    a flag of `dcdir-server --helpfull` (its own, not Abseil's), `dcdirctl --help` or
           `dcdir-agent --help` that README.md and docs/ never mention; a `--flag` they mention
           that none of the three binaries has (flags of other tools are told apart by the
           command they follow, by being flags of the repository's own tools and scripts under
           OTHER_TOOL_DIRS when no dcdir binary precedes them, or by EXTERNAL_FLAGS below).
  links    a Markdown link or a repository path (service/..., docs/..., a *.md name) in README.md
           or docs/ that does not exist, an #anchor that no heading makes, a runbook annotation
           of the Prometheus rules that points nowhere, and anywhere in the repository a
           reference to files that are not part of it (the design folder beside the checkout).
  env      a variable a user-facing script reads (${NAME:-default}) that README.md and docs/
           never mention.
  commands the runbook's `buf curl` commands, run against the spawned server (they must answer).

usage: check_docs.py --repo DIR --server BIN --ctl BIN --agent BIN --buf BIN [--only RULE,...]
Exit 0 when every rule passes, 1 otherwise (2 on a usage or set-up error).
"""

import argparse
import glob
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# --flags of other programs that the docs name in prose, away from their command line.
EXTERNAL_FLAGS = {
    "pull": "podman build --pull=never",
    "network": "podman build/run --network=host",
    "init": "podman run --init",
    "read-only": "podman run --read-only",
    "cap-drop": "podman run --cap-drop=ALL",
    "user": "podman run --user",
    "set-file": "helm install --set-file",
    "set": "helm template --set",
    "prefix": "cmake --install --prefix",
    "output-on-failure": "ctest --output-on-failure",
    "schema": "buf curl --schema",
    "http2-prior-knowledge": "buf curl --http2-prior-knowledge",
    "protocol": "buf curl --protocol",
    "cacert": "buf curl --cacert",
    "cert": "buf curl --cert",
    "key": "buf curl --key",
    "purge": "dpkg --purge",
    "strict": "helm lint --strict / yamllint --strict",
    "startdate": "openssl ca -startdate",
    "enddate": "openssl ca -enddate",
    "variant": "mmdebstrap --variant=minbase",
    "cflags": "pkg-config --cflags",
    "instr-atstart": "valgrind --tool=callgrind --instr-atstart=no",
    "libs": "pkg-config --libs",
}

# Programs whose command lines the docs show: the --flags after them are theirs.
EXTERNAL_PROGRAMS = {
    "apt", "apt-get", "buf", "c++", "cmake", "cpack", "ctest", "curl", "docker", "dpkg", "git",
    "grpcurl", "h2load", "helm", "kubectl", "mmdebstrap", "node", "npm", "openssl", "perl",
    "pkg-config", "podman", "prometheus", "promtool", "python3", "redis-cli", "redis-server",
    "redis-sentinel", "systemctl", "systemd-analyze", "yamllint", "make", "gcc", "clang",
    "sudo", "install", "head", "tr", "base64", "cp", "ls", "tar", "unzip", "ldd", "cat",
    "valgrind", "perf",
}
# The repository's other tools (benchmark clients, world generator, scripts): a --flag the docs
# name away from a dcdir binary's command line may be one of theirs, if their source has it.
OTHER_TOOL_DIRS = ("tests/bench", "scripts")
OUR_PROGRAMS = {"dcdir-server", "dcdirctl", "dcdir-agent"}

REPO_DIRS = ("service", "clients", "proto", "deploy", "docs", "tests", "scripts", "helm", "cmake",
             "packaging", "examples", ".ci")

# Scripts whose environment variables users set (the rest are internal to CI).
USER_SCRIPTS = ("scripts/run-demo.sh", "scripts/test.sh", "scripts/sanitizers.sh",
                "scripts/bench.sh", "scripts/container-check.sh", "scripts/routing-bench.sh")

# References to files outside the repository, wherever they appear in it.
FOREIGN = re.compile(r"\.\./shared|\bdata/world/|\b(?:PRODUCT|QUALITY|STYLE|TOOLS)\.md\b")
# scripts/test.sh runs an external contract checker only when one is installed beside the
# checkout (the lead's CI hook); it is a command, not a reference a reader follows.
FOREIGN_ALLOWED = {"scripts/test.sh"}


class Checker:
    def __init__(self, args):
        self.args = args
        self.repo = os.path.abspath(args.repo)
        self.failures = []
        self.docs = {}  # path relative to the repo -> text
        for path in ["README.md"] + sorted(glob.glob(os.path.join(self.repo, "docs", "*.md"))):
            rel = os.path.relpath(os.path.join(self.repo, path), self.repo)
            with open(os.path.join(self.repo, rel), encoding="utf-8") as f:
                self.docs[rel] = f.read()
        self.all_docs_text = "\n".join(self.docs.values())

    def fail(self, rule, message):
        self.failures.append(f"[{rule}] {message}")

    def read(self, rel):
        with open(os.path.join(self.repo, rel), encoding="utf-8") as f:
            return f.read()

    # ------------------------------------------------------------------ metrics
    def cmake_names(self):
        """Targets and tests the CMake files define (docs name test binaries like dcdir_x_test)."""
        names = set()
        pattern = re.compile(
            r"(?:add_executable|add_library|add_custom_target)\(\s*([A-Za-z0-9_]+)|"
            r"add_test\(\s*NAME\s+([A-Za-z0-9_]+)|fuzz_smoke_([a-z_]+)")
        for path in glob.glob(os.path.join(self.repo, "**", "CMakeLists.txt"), recursive=True):
            if "/build" in os.path.relpath(path, self.repo):
                continue
            with open(path, encoding="utf-8") as f:
                for m in pattern.finditer(f.read()):
                    names.update(n for n in m.groups() if n)
        return names

    def check_metrics(self, scrape):
        families = {}  # name -> set of label names
        for line in scrape.splitlines():
            m = re.match(r"# TYPE (\S+) (\S+)", line)
            if m:
                families.setdefault(m.group(1), set())
                continue
            if not line or line.startswith("#"):
                continue
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ", line)
            if not m:
                continue
            name = m.group(1)
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[: -len(suffix)] in families:
                    name = name[: -len(suffix)]
            labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(2) or ""))
            families.setdefault(name, set()).update(labels)
        ours = {n: l for n, l in families.items() if n.startswith("dcdir_")}
        if len(ours) < 10:
            self.fail("metrics", f"the scrape has only {len(ours)} dcdir_ families; is it /metrics?")
            return
        targets = self.cmake_names()
        for rel, text in self.docs.items():
            for m in re.finditer(r"\b(dcdir_[a-z0-9_]+)(\{([^}]*)\})?", text):
                name = m.group(1)
                base = name
                for suffix in ("_bucket", "_sum", "_count"):
                    if name.endswith(suffix) and name[: -len(suffix)] in ours:
                        base = name[: -len(suffix)]
                if base not in ours:
                    if name in targets or name.rstrip("_") in targets:
                        continue  # a CMake target or test
                    line = text.count("\n", 0, m.start()) + 1
                    self.fail("metrics", f"{rel}:{line}: {name} is neither exported by "
                              "dcdir-server nor a CMake target or test")
                    continue
                if m.group(3) is None:
                    continue
                allowed = ours[base] | ({"le"} if name.endswith("_bucket") else set())
                for label in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!=|!~|=|,|$)",
                                        m.group(3)):
                    if label not in allowed:
                        line = text.count("\n", 0, m.start()) + 1
                        self.fail("metrics", f"{rel}:{line}: {base} has no label {label} "
                                  f"(it has: {', '.join(sorted(ours[base])) or 'none'})")
        contract = self.docs.get("docs/CONTRACT.md", "")
        for name in sorted(ours):
            if not re.search(r"`" + re.escape(name) + r"(\{[^`]*\})?`", contract):
                self.fail("metrics", f"{name} is exported but docs/CONTRACT.md does not list it")

    # ------------------------------------------------------------------ reasons
    def check_reasons(self):
        header = self.read("service/api/reasons.h")
        constants = dict(re.findall(r'inline constexpr char (k\w+)\[\] = "([A-Z0-9_]+)";', header))
        catalogue = {}
        for const, code in re.findall(r"\{(k\w+), grpc::StatusCode::([A-Z_]+),", header):
            if const not in constants:
                self.fail("reasons", f"service/api/reasons.h: kCatalogue names {const}, which is "
                          "not a constant of the header")
                continue
            token = constants[const]
            if token in catalogue:
                self.fail("reasons", f"service/api/reasons.h: {token} is in kCatalogue twice")
            catalogue[token] = code
        for token in set(constants.values()) - set(catalogue):
            self.fail("reasons", f"service/api/reasons.h: {token} is not in kCatalogue")
        if len(catalogue) < 10:
            self.fail("reasons", f"service/api/reasons.h: only {len(catalogue)} catalogue entries "
                      "parsed; has its format changed?")
        # Every reason-shaped literal the server code writes is catalogued.
        shaped = re.compile(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"')
        for path in sorted(glob.glob(os.path.join(self.repo, "service", "api", "*.[ch]*")) +
                           glob.glob(os.path.join(self.repo, "service", "core", "*.[ch]*"))):
            rel = os.path.relpath(path, self.repo)
            if rel == "service/api/reasons.h":
                continue
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    code = line.split("//", 1)[0]
                    for token in shaped.findall(code):
                        if token not in catalogue:
                            self.fail("reasons", f"{rel}:{number}: reason {token} is not in the "
                                      "catalogue service/api/reasons.h")
        # docs/CONTRACT.md lists each with its code, and nothing else.
        contract = self.docs.get("docs/CONTRACT.md", "")
        section = re.search(r"^## Errors.*?(?=^## )", contract, re.S | re.M)
        rows = {}
        if section:
            for m in re.finditer(r"^\| `([A-Z0-9_]+)` \| `?([A-Z_]+)`? \|", section.group(0), re.M):
                rows[m.group(1)] = m.group(2)
        else:
            self.fail("reasons", "docs/CONTRACT.md has no '## Errors' section")
        client_tokens = self.client_reason_tokens()
        for token, code in sorted(catalogue.items()):
            if token not in rows:
                self.fail("reasons", f"{token} ({code}) can be sent by the server but "
                          "docs/CONTRACT.md (Errors) does not document it")
            elif rows[token] != code:
                self.fail("reasons", f"docs/CONTRACT.md documents {token} with {rows[token]}; the "
                          f"server sends it with {code}")
        for token in sorted(set(rows) - set(catalogue) - set(client_tokens)):
            self.fail("reasons", f"docs/CONTRACT.md documents {token}, which neither the server "
                      "(service/api/reasons.h) nor the client library produces")
        for token, where in sorted(client_tokens.items()):
            if token not in rows:
                self.fail("reasons", f"{where}: the client library's reason {token} is not in "
                          "docs/CONTRACT.md (Errors)")
        self.check_cli_hints(catalogue)
        self.check_readme_reasons(catalogue, client_tokens)

    def check_cli_hints(self, catalogue):
        """The CLI's hint table (dcdirctl, dcdir-agent) has one entry per catalogue token."""
        rel = "clients/cli/exit_codes.cc"
        source = self.read(rel)
        table = re.search(r"kReasonHints\[\] = \{(.*?)^\};", source, re.S | re.M)
        if not table:
            self.fail("reasons", f"{rel}: no kReasonHints[] table; has its format changed?")
            return
        start = source[:table.start(1)].count("\n") + 1
        seen = set()
        for m in re.finditer(r'^\s*\{"([A-Z0-9_]+)",', table.group(1), re.M):
            token = m.group(1)
            line = start + table.group(1)[:m.start()].count("\n")
            if token in seen:
                self.fail("reasons", f"{rel}:{line}: {token} has two hints")
            seen.add(token)
            if token not in catalogue:
                self.fail("reasons", f"{rel}:{line}: hint for {token}, which the server's "
                          "catalogue (service/api/reasons.h) does not have")
        for token in sorted(set(catalogue) - seen):
            self.fail("reasons", f"{rel}: the server can send {token} but kReasonHints has no "
                      "hint for it")

    def check_readme_reasons(self, catalogue, client_tokens):
        """The tokens README.md's errors paragraph names are real ones (gRPC code names aside)."""
        readme = self.docs.get("README.md", "")
        codes = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                 "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                 "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
                 "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED", "NOT_SERVING", "SERVING"}
        paragraphs = [p for p in re.split(r"\n\s*\n", readme) if "dcdir-error-reason" in p]
        if not paragraphs:
            self.fail("reasons", "README.md: no paragraph names the `dcdir-error-reason` trailer")
        for paragraph in paragraphs:
            for token in re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`", paragraph):
                if token not in catalogue and token not in client_tokens and token not in codes:
                    self.fail("reasons", f"README.md: reason {token} is neither in the catalogue "
                              "(service/api/reasons.h) nor a client library token")

    def client_reason_tokens(self):
        """Reason-shaped literals of the client library (its own tokens, e.g. CACHE_EXPIRED)."""
        tokens = {}
        for path in sorted(glob.glob(os.path.join(self.repo, "clients", "cpp", "*.cc"))):
            rel = os.path.relpath(path, self.repo)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    code = line.split("//", 1)[0]
                    for token in re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', code):
                        tokens.setdefault(token, f"{rel}:{number}")
        return tokens

    # ------------------------------------------------------------------ flags
    def binary_flags(self):
        flags = {}  # name (underscores) -> binary
        out = subprocess.run([self.args.server, "--helpfull"], capture_output=True, text=True,
                             timeout=30).stdout
        section_ours = False
        for line in out.splitlines():
            m = re.match(r"\s*Flags from (\S+):", line)
            if m:
                section_ours = "service/" in m.group(1) and "absl" not in m.group(1)
                continue
            m = re.match(r"\s+--([a-z0-9_]+) \(", line)
            if m and section_ours:
                flags[m.group(1)] = "dcdir-server"
        if "config" not in flags:
            self.fail("flags", "dcdir-server --helpfull lists no --config: has its format changed?")
        for binary, name in ((self.args.ctl, "dcdirctl"), (self.args.agent, "dcdir-agent")):
            out = subprocess.run([binary, "--help"], capture_output=True, text=True,
                                 timeout=30).stdout
            found = re.findall(r"^  --([a-z0-9_]+)", out, re.M)
            if "server" not in found:
                self.fail("flags", f"{name} --help lists no --server: has its format changed?")
            for flag in found:
                flags.setdefault(flag, name)
        return flags

    def documented_flags(self):
        """(flag, file, line, program) for every --flag in README.md and docs/."""
        found = []
        for rel, text in self.docs.items():
            for number, line in enumerate(text.splitlines(), 1):
                # Each inline code span and each code line is one context; prose is another.
                for m in re.finditer(r"(?<![\w-])--([a-zA-Z][a-zA-Z0-9_-]*)", line):
                    before = line[: m.start()]
                    program = None
                    words = re.findall(r"[\w./+-]+", before)
                    for word in reversed(words):
                        base = os.path.basename(word)
                        if base in OUR_PROGRAMS or base in EXTERNAL_PROGRAMS:
                            program = base
                            break
                        if word in ("|", "&&", ";"):
                            break
                    found.append((m.group(1), rel, number, program))
        return found

    def other_tool_flags(self):
        """Every --flag spelled in the source of the repository's other tools and scripts."""
        found = set()
        for d in OTHER_TOOL_DIRS:
            for path in glob.glob(os.path.join(self.repo, d, "**", "*"), recursive=True):
                if not os.path.isfile(path):
                    continue
                try:
                    with open(path, encoding="utf-8") as f:
                        found.update(re.findall(r"--([a-z][a-z0-9_-]*)", f.read()))
                except UnicodeDecodeError:
                    continue
        return found

    def check_flags(self):
        flags = self.binary_flags()
        normalized = {f.replace("-", "_") for f in flags}
        other_tools = self.other_tool_flags()
        mentioned = set()
        for flag, rel, number, program in self.documented_flags():
            name = flag.replace("-", "_")
            if program in EXTERNAL_PROGRAMS:
                continue
            if name in normalized:
                mentioned.add(name)
                continue
            if program is None and flag in EXTERNAL_FLAGS:
                continue
            if program not in OUR_PROGRAMS and flag in other_tools:
                continue
            if name in ("help", "helpfull", "version"):
                continue
            self.fail("flags", f"{rel}:{number}: --{flag} is not a flag of dcdir-server, dcdirctl "
                      "or dcdir-agent" + (f" (after {program})" if program else ""))
        for flag, binary in sorted(flags.items()):
            if flag in ("help", "helpfull", "version"):
                continue
            if flag not in mentioned:
                self.fail("flags", f"{binary} --{flag} is documented nowhere in README.md or docs/")

    # ------------------------------------------------------------------ links
    @staticmethod
    def slug(heading):
        """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
        s = heading.strip().lower()
        s = re.sub(r"[^\w\- ]", "", s)
        return s.replace(" ", "-")

    def anchors(self, rel):
        text = self.read(rel)
        return {self.slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}

    def exists(self, rel_path):
        path = os.path.normpath(os.path.join(self.repo, rel_path))
        if not path.startswith(self.repo):
            return False
        # Brace lists and globs: service/store/redis_store.{h,cc}, tests/install/testdata/*.
        m = re.search(r"\{([^}]*)\}", rel_path)
        if m:
            return all(self.exists(rel_path[: m.start()] + alt + rel_path[m.end():])
                       for alt in m.group(1).split(","))
        if any(c in rel_path for c in "*?["):
            return bool(glob.glob(path))
        return os.path.exists(path)

    def check_links(self):
        path_re = re.compile(
            r"(?<![\w/.$-])((?:" + "|".join(re.escape(d) for d in REPO_DIRS) +
            r")/[\w./{},*+-]*)")
        for rel, text in self.docs.items():
            doc_dir = os.path.dirname(rel)
            for m in re.finditer(r"\]\(([^)\s]+)\)", text):
                target = m.group(1)
                line = text.count("\n", 0, m.start()) + 1
                if re.match(r"[a-z]+:", target):
                    continue
                file_part, _, anchor = target.partition("#")
                target_rel = os.path.normpath(os.path.join(doc_dir, file_part)) if file_part else rel
                if file_part and not self.exists(target_rel):
                    self.fail("links", f"{rel}:{line}: link to {target}: {target_rel} does not exist")
                    continue
                if anchor and target_rel.endswith(".md") and anchor not in self.anchors(target_rel):
                    self.fail("links", f"{rel}:{line}: link to {target}: no heading makes #{anchor}")
            for m in path_re.finditer(text):
                path = m.group(1).rstrip(".,:;")
                anchor = ""
                if "#" in path:
                    path, anchor = path.split("#", 1)
                line = text.count("\n", 0, m.start()) + 1
                if not self.exists(path):
                    self.fail("links", f"{rel}:{line}: {path} is not in the repository")
                elif anchor and path.endswith(".md") and anchor not in self.anchors(path):
                    self.fail("links", f"{rel}:{line}: {path} has no heading making #{anchor}")
            for m in re.finditer(r"(?<![\w/.-])([A-Za-z][A-Za-z0-9_-]*\.md)\b", text):
                name = m.group(1)
                if not (self.exists(name) or self.exists(os.path.join("docs", name)) or
                        self.exists(os.path.join(doc_dir, name))):
                    line = text.count("\n", 0, m.start()) + 1
                    self.fail("links", f"{rel}:{line}: {name} is not in the repository")
        # The alerts' runbook links.
        for rel in ("deploy/prometheus/dcdir-rules.yaml",):
            text = self.read(rel)
            for m in re.finditer(r'runbook: "?([^"\s]+)"?', text):
                path, _, anchor = m.group(1).partition("#")
                line = text.count("\n", 0, m.start()) + 1
                if not self.exists(path):
                    self.fail("links", f"{rel}:{line}: runbook {path} does not exist")
                elif anchor and anchor not in self.anchors(path):
                    self.fail("links", f"{rel}:{line}: runbook {path} has no heading making #{anchor}")
        # Nothing in the repository points at files outside it.
        files = subprocess.run(["git", "-C", self.repo, "ls-files", "-co", "--exclude-standard"],
                               capture_output=True, text=True, check=True).stdout.split()
        me = os.path.relpath(os.path.abspath(__file__), self.repo)
        for rel in files:
            if rel in FOREIGN_ALLOWED or rel == me or not os.path.isfile(os.path.join(self.repo, rel)):
                continue
            try:
                text = self.read(rel)
            except (UnicodeDecodeError, OSError):
                continue
            for m in FOREIGN.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                self.fail("links", f"{rel}:{line}: {m.group(0)} is not part of the repository")

    # ------------------------------------------------------------------ env
    def check_env(self):
        for rel in USER_SCRIPTS:
            if not os.path.exists(os.path.join(self.repo, rel)):
                continue
            for name in sorted(set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", self.read(rel)))):
                if not re.search(r"\b" + name + r"\b", self.all_docs_text):
                    self.fail("env", f"{rel} reads ${name}, which README.md and docs/ never "
                              "mention")

    # ------------------------------------------------------------------ the running server
    def start_server(self, work):
        token_file = os.path.join(work, "token")
        with open(token_file, "w") as f:
            f.write("docs-check-token\n")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            metrics_port = s.getsockname()[1]
        log = open(os.path.join(work, "server.log"), "w+")
        proc = subprocess.Popen(
            [self.args.server, "--config=" + os.path.join(self.repo, "deploy/config/world.yaml"),
             "--grpc_host=127.0.0.1", "--grpc_port=0", "--metrics_host=127.0.0.1",
             f"--metrics_port={metrics_port}", "--auth_token_file=" + token_file,
             "--audit_log=" + os.path.join(work, "audit.log"), "--audit_window=1s",
             "--shutdown_grace=0s"], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        port = None
        while time.time() < deadline and port is None:
            log.seek(0)
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read())
            if m:
                port = int(m.group(1))
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
        if port is None:
            log.seek(0)
            raise RuntimeError("dcdir-server did not start:\n" + log.read()[-2000:])
        return proc, port, metrics_port, token_file

    def drive(self, port, token_file):
        """Reports, a cross-border fallback, a policy-mandated cross-border answer, an explanation,
        a tenant: every code path that creates a series on first use runs once."""
        server = f"127.0.0.1:{port}"
        ctl = [self.args.ctl, "--server", server, "--token_file", token_file]
        steps = [
            [self.args.agent, "--server", server, "--token_file", token_file, "--config",
             os.path.join(self.repo, "deploy/config/world.yaml"), "--simulate", "--once",
             "--quiet"],
            ctl + ["get", "--country", "US", "--client_id", "docs"],
        ]
        for dc in ("us-sjc", "us-den", "us-nyc", "us-iad"):
            steps.append(ctl + ["report-health", "--dc", dc, "--status", "down"])
        steps += [
            ctl + ["get", "--country", "US", "--client_id", "docs"],
            ctl + ["explain", "--country", "CN"],
            ctl + ["tenant", "set", "--tenant", "docs", "--home_region", "eu"],
            # A US client of an EU-only tenant is sent abroad by policy.
            ctl + ["get", "--country", "US", "--tenant", "docs"],
            ctl + ["tenant", "list"],
            ctl + ["get", "--country", "XX"],  # refused: counted under its code
            [self.args.ctl, "--server", server, "list"],  # unauthenticated report
        ]
        for step in steps:
            subprocess.run(step, capture_output=True, timeout=30)

    def check_commands(self, port):
        text = self.docs.get("docs/RUNBOOK.md", "")
        commands = [c for c in re.findall(r"^\s*(buf curl [^\n]+(?:\\\n[^\n]+)*)", text, re.M)]
        if not commands:
            self.fail("commands", "docs/RUNBOOK.md shows no `buf curl` command")
        for command in commands:
            line = command.replace("\\\n", " ")
            argv = shlex.split(line)
            argv[0] = self.args.buf
            argv = [re.sub(r"127\.0\.0\.1:50051", f"127.0.0.1:{port}", a) for a in argv]
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            except FileNotFoundError:
                self.fail("commands", f"no buf at {self.args.buf} (scripts/install-deploy-tools.sh)")
                return
            if r.returncode != 0:
                self.fail("commands", f"docs/RUNBOOK.md: `{line.strip()}` failed "
                          f"({r.returncode}): {(r.stderr or r.stdout).strip()[:300]}")

    def run(self, rules):
        if "reasons" in rules:
            self.check_reasons()
        if "links" in rules:
            self.check_links()
        if "env" in rules:
            self.check_env()
        if "flags" in rules:
            self.check_flags()
        if rules & {"metrics", "commands"}:
            with tempfile.TemporaryDirectory() as work:
                proc, port, metrics_port, token_file = self.start_server(work)
                try:
                    self.drive(port, token_file)
                    time.sleep(1.2)  # the audit window closes: its line counter moves
                    if "metrics" in rules:
                        url = f"http://127.0.0.1:{metrics_port}/metrics"
                        scrape = urllib.request.urlopen(url, timeout=10).read().decode()
                        self.check_metrics(scrape)
                    if "commands" in rules:
                        self.check_commands(port)
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=20)
        for failure in self.failures:
            print(failure)
        print(f"docs check ({', '.join(sorted(rules))}): {len(self.failures)} problem(s)")
        return 1 if self.failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--ctl", required=True)
    parser.add_argument("--agent", required=True)
    parser.add_argument("--buf", required=True)
    parser.add_argument("--only", default="metrics,reasons,flags,links,env,commands")
    args = parser.parse_args()
    rules = set(args.only.split(","))
    unknown = rules - {"metrics", "reasons", "flags", "links", "env", "commands"}
    if unknown:
        print(f"unknown rule(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    return Checker(args).run(rules)


if __name__ == "__main__":
    sys.exit(main())
