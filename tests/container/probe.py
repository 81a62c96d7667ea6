"""Client side of scripts/container-check.sh: talks to dcdir containers through their published
ports, with Debian's python3-grpcio and stubs generated from proto/ and Debian's grpc-proto
(grpc/health/v1/health.proto), and to Prometheus over its HTTP API.

With PROBE_TLS_CA=CA.pem in the environment the gRPC commands use TLS verified against that CA.
Every command prints what it saw on stderr ("probe: ...") and exits 0 when the expectation
holds, 1 otherwise. Commands that wait poll until a deadline (--wait SECONDS) and fail with the
last thing they saw.

  health ADDR [--expect SERVING] [--wait S]        grpc.health.v1.Health/Check, service ""
  kube-probe PLAN PORTS KIND                        run the chart's rendered probe KIND
                                                    (startup|readiness|liveness) once, like kubelet
  watch-health ADDR OUT                             Health/Watch: one line per status to OUT
  auth ADDR TOKEN_FILE                              ReportHealth: no token, wrong token, the token
  report ADDR TOKEN_FILE STATUS DC...               ReportHealth for the DCs (ALL: every DC of --plan)
  get ADDR COUNTRY [--expect-primaries a,b|REGION] [--expect-code CODE] [--wait S]
  prom URL QUERY EXPECTED [--wait S]                one-sample query result == EXPECTED
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import grpc
from google.protobuf import duration_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from dcdir.v1 import directory_pb2, directory_pb2_grpc, reporting_pb2, reporting_pb2_grpc
from dcdir.v1 import types_pb2

REASON_KEY = "dcdir-error-reason"


def log(message):
    print(f"probe: {message}", file=sys.stderr, flush=True)


def fail(message):
    log(f"FAIL: {message}")
    sys.exit(1)


def poll(what, fn, wait):
    """Calls fn() -> (ok, seen) until ok or `wait` seconds passed; returns seen."""
    start = time.monotonic()
    while True:
        try:
            ok, seen = fn()
        except grpc.RpcError as e:
            ok, seen = False, f"{e.code().name}: {e.details()}"
        except OSError as e:
            ok, seen = False, repr(e)
        if ok:
            if wait > 0:
                log(f"{what}: after {time.monotonic() - start:.2f} s")
            return seen
        if time.monotonic() - start >= wait:
            fail(f"{what}: not seen within {wait} s (last: {seen})")
        time.sleep(0.2)


def reason(e):
    for k, v in (e.trailing_metadata() or ()):
        if k == REASON_KEY:
            return v
    return ""


def channel(addr):
    """Plaintext, or TLS verified against the CA file in $PROBE_TLS_CA (the server certificate
    must name the address, e.g. IP 127.0.0.1)."""
    ca = os.environ.get("PROBE_TLS_CA")
    if not ca:
        return grpc.insecure_channel(addr)
    with open(ca, "rb") as f:
        return grpc.secure_channel(addr, grpc.ssl_channel_credentials(root_certificates=f.read()))


def health_status(addr, service="", timeout=2.0):
    with channel(addr) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)


def cmd_health(a):
    seen = poll(f"{a.addr} health {a.expect}",
                lambda: (lambda s: (s == a.expect, s))(health_status(a.addr)), a.wait)
    log(f"{a.addr}: grpc.health.v1.Health/Check -> {seen}")


def cmd_kube_probe(a):
    """One attempt of a rendered probe, like kubelet: grpc (SERVING), tcpSocket (connects),
    httpGet (status 200-399), exec (the command in the container exits 0); the port is the
    container port's published host port."""
    plan = json.load(open(a.plan))
    ports = json.load(open(a.ports))  # {"50051": host_port, "grpc": host_port, ...}
    probe = plan["probes"][a.kind]
    if probe is None:
        log(f"{a.kind} probe: not rendered")
        return
    timeout = probe.get("timeoutSeconds", 1)
    kind = next(k for k in ("grpc", "tcpSocket", "httpGet", "exec") if k in probe)
    spec = probe[kind]
    if kind == "exec":
        # As kubelet does: the command inside the container; success is exit status 0.
        if not a.container:
            fail(f"{a.kind} probe: an exec probe needs --container")
        argv = ["podman", "exec", a.container] + list(spec["command"])
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 5)
        except subprocess.TimeoutExpired:
            fail(f"{a.kind} probe exec {spec['command']}: timed out")
        if r.returncode != 0:
            fail(f"{a.kind} probe exec {spec['command']}: exit {r.returncode}: "
                 f"{(r.stdout + r.stderr).strip()}")
        log(f"{a.kind} probe: exec {' '.join(spec['command'][1:])} -> exit 0 ({r.stdout.strip()})")
        return
    port = ports.get(str(spec["port"]))
    if port is None:
        fail(f"{a.kind} probe: port {spec['port']} is not a container port of the chart")
    where = f"container port {spec['port']} (127.0.0.1:{port})"
    if kind == "grpc":
        status = health_status(f"127.0.0.1:{port}", spec.get("service", ""), timeout)
        if status != "SERVING":
            fail(f"{a.kind} probe grpc on {where}: {status}")
        log(f"{a.kind} probe: grpc on {where} -> {status}")
    elif kind == "tcpSocket":
        socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
        log(f"{a.kind} probe: tcpSocket {where} -> connected")
    else:
        if spec.get("scheme", "HTTP") != "HTTP":
            fail(f"{a.kind} probe: httpGet scheme {spec['scheme']} is not reproduced")
        url = f"http://127.0.0.1:{port}{spec.get('path', '/')}"
        with urllib.request.urlopen(url, timeout=timeout) as r:
            if not 200 <= r.status < 400:
                fail(f"{a.kind} probe httpGet {url}: {r.status}")
            log(f"{a.kind} probe: httpGet {spec.get('path', '/')} on {where} -> {r.status}")


def cmd_watch_health(a):
    """Writes "<monotonic seconds> <STATUS>" per update to OUT (the first line when the stream's
    first status arrives). At the first NOT_SERVING the client cancels the stream, as a load
    balancer that stops sending would: an open Watch call is an in-flight call the server's
    drain waits for (up to --shutdown_grace)."""
    with open(a.out, "w", buffering=1) as out, channel(a.addr) as ch:
        stream = health_pb2_grpc.HealthStub(ch).Watch(health_pb2.HealthCheckRequest(service=""))
        try:
            for resp in stream:
                name = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
                out.write(f"{time.monotonic():.3f} {name}\n")
                if name == "NOT_SERVING":
                    stream.cancel()
                    out.write(f"{time.monotonic():.3f} END client-cancelled\n")
                    return
            out.write(f"{time.monotonic():.3f} END OK\n")
        except grpc.RpcError as e:
            out.write(f"{time.monotonic():.3f} END {e.code().name}\n")


def report(stub, dc, status, token):
    metadata = [("authorization", f"Bearer {token}")] if token is not None else None
    return stub.ReportHealth(
        reporting_pb2.HealthReport(datacenter_id=dc, status=status, congestion=0.1,
                                   ttl=duration_pb2.Duration(seconds=600)),
        metadata=metadata, timeout=5)


def read_token(path):
    with open(path) as f:
        return f.read().strip()


def cmd_auth(a):
    """ReportHealth needs the token the container has mounted: none and a wrong one are refused
    with UNAUTHENTICATED and their reason tokens; the mounted one is accepted."""
    token = read_token(a.token_file)
    with channel(a.addr) as ch:
        stub = reporting_pb2_grpc.ReportingServiceStub(ch)
        dc = a.dc
        for label, tok, want in (("no token", None, "MISSING_CREDENTIALS"),
                                 ("a wrong token", token + "-wrong", "INVALID_CREDENTIALS")):
            try:
                report(stub, dc, types_pb2.HEALTH_STATUS_HEALTHY, tok)
                fail(f"ReportHealth with {label} was accepted")
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNAUTHENTICATED or reason(e) != want:
                    fail(f"ReportHealth with {label}: {e.code().name} {reason(e)} "
                         f"(want UNAUTHENTICATED {want})")
                log(f"ReportHealth with {label} -> UNAUTHENTICATED ({want})")
        report(stub, dc, types_pb2.HEALTH_STATUS_HEALTHY, token)
        log(f"ReportHealth with the mounted token -> OK ({dc} HEALTHY)")


def world_of(plan_file):
    world = json.load(open(plan_file))["world"]
    if not world:
        fail(f"{plan_file}: no world config mounted")
    return world


def cmd_report(a):
    token = read_token(a.token_file)
    dcs = a.dcs
    if dcs == ["ALL"]:
        dcs = [dc["id"] for dc in world_of(a.plan)["datacenters"]]
    status = types_pb2.HealthStatus.Value(f"HEALTH_STATUS_{a.status}")
    with channel(a.addr) as ch:
        stub = reporting_pb2_grpc.ReportingServiceStub(ch)
        for dc in dcs:
            report(stub, dc, status, token)
    log(f"{a.addr}: ReportHealth {a.status} for {len(dcs)} DCs -> OK")


def cmd_get(a):
    want_primaries = None
    if a.expect_primaries:
        if a.plan and "," not in a.expect_primaries:  # a region id: its configured primaries
            world = world_of(a.plan)
            regions = {r["id"]: r for r in world["regions"]}
            if a.expect_primaries not in regions:
                fail(f"no region {a.expect_primaries} in the world config")
            want_primaries = sorted(regions[a.expect_primaries]["primaries"])
        else:
            want_primaries = sorted(x for x in a.expect_primaries.split(",") if x)
    exclude = set(a.without.split(",")) if a.without else set()
    if want_primaries is not None:
        want_primaries = [p for p in want_primaries if p not in exclude]

    def attempt():
        with channel(a.addr) as ch:
            stub = directory_pb2_grpc.DirectoryServiceStub(ch)
            try:
                d = stub.GetDirectory(directory_pb2.GetDirectoryRequest(
                    client_country=a.country, client_id=a.client_id), timeout=5)
            except grpc.RpcError as e:
                seen = f"{e.code().name} ({reason(e)})"
                return a.expect_code == e.code().name, seen
        primaries = sorted(p.id for p in d.primaries)
        seen = (f"OK region {d.client_region}, primaries {[p.id for p in d.primaries]}, "
                f"secondaries {[s.id for s in d.secondaries]}, config {d.config_version}, "
                f"stale {d.stale}")
        if a.expect_code and a.expect_code != "OK":
            return False, seen
        return want_primaries is None or primaries == want_primaries, seen

    what = f"{a.addr}: GetDirectory({a.country})"
    want = a.expect_code or f"primaries {want_primaries}"
    seen = poll(f"{what} -> {want}", attempt, a.wait)
    log(f"{what} -> {seen}")


def cmd_prom(a):
    def attempt():
        url = f"{a.url}/api/v1/query?" + urllib.parse.urlencode({"query": a.query})
        with urllib.request.urlopen(url, timeout=5) as r:
            result = json.loads(r.read().decode())["data"]["result"]
        if len(result) != 1:
            return False, f"{len(result)} samples"
        value = result[0]["value"][1]
        return float(value) == float(a.expected), value

    seen = poll(f"Prometheus {a.query} == {a.expected}", attempt, a.wait)
    log(f"Prometheus: {a.query} = {seen}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("health")
    p.add_argument("addr")
    p.add_argument("--expect", default="SERVING")
    p.add_argument("--wait", type=float, default=0)
    p.set_defaults(fn=cmd_health)
    p = sub.add_parser("kube-probe")
    p.add_argument("plan")
    p.add_argument("ports")
    p.add_argument("kind", choices=["startup", "readiness", "liveness"])
    p.add_argument("--container", default="", help="podman container (exec probes)")
    p.set_defaults(fn=cmd_kube_probe)
    p = sub.add_parser("watch-health")
    p.add_argument("addr")
    p.add_argument("out")
    p.set_defaults(fn=cmd_watch_health)
    p = sub.add_parser("auth")
    p.add_argument("addr")
    p.add_argument("token_file")
    p.add_argument("--dc", default="us-sjc")
    p.set_defaults(fn=cmd_auth)
    p = sub.add_parser("report")
    p.add_argument("addr")
    p.add_argument("token_file")
    p.add_argument("status", choices=["HEALTHY", "DRAINING", "DOWN"])
    p.add_argument("dcs", nargs="+")
    p.add_argument("--plan")
    p.set_defaults(fn=cmd_report)
    p = sub.add_parser("get")
    p.add_argument("addr")
    p.add_argument("country")
    p.add_argument("--client_id", default="container-check")
    p.add_argument("--plan")
    p.add_argument("--expect-primaries")
    p.add_argument("--without", default="")
    p.add_argument("--expect-code")
    p.add_argument("--wait", type=float, default=0)
    p.set_defaults(fn=cmd_get)
    p = sub.add_parser("prom")
    p.add_argument("url")
    p.add_argument("query")
    p.add_argument("expected")
    p.add_argument("--wait", type=float, default=0)
    p.set_defaults(fn=cmd_prom)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
