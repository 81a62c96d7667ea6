"""Driver of e2e_prometheus.sh: talks to dcdir-server over gRPC and to Prometheus over HTTP.

Every check prints what it saw; the first failed one exits non-zero.
"""

import argparse
import json
import sys
import time
import urllib.parse
import urllib.request

import grpc
from google.protobuf import duration_pb2
from dcdir.v1 import directory_pb2, directory_pb2_grpc, reporting_pb2, reporting_pb2_grpc
from dcdir.v1 import admin_pb2, admin_pb2_grpc, types_pb2

US_DCS = ["us-sjc", "us-den", "us-nyc", "us-iad"]


def fail(message):
    print(f"e2e: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def log(message):
    print(f"e2e: {message}", file=sys.stderr)


def poll(what, fn, timeout):
    """Calls fn() until it returns a truthy value; returns it, or fails after `timeout` s."""
    start = time.monotonic()
    deadline = start + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                log(f"{what}: seen after {time.monotonic() - start:.1f} s")
                return last
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.25)
    fail(f"{what}: not seen within {timeout} s (last: {last!r})")


def prom_get(base, path, **params):
    url = f"{base}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grpc", required=True)
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--audit_log", required=True)
    ap.add_argument("--requests", type=int, default=3)
    args = ap.parse_args()

    channel = grpc.insecure_channel(args.grpc)
    poll("dcdir-server gRPC", lambda: grpc.channel_ready_future(channel).result(timeout=1) or True,
         20)
    directory = directory_pb2_grpc.DirectoryServiceStub(channel)
    reporting = reporting_pb2_grpc.ReportingServiceStub(channel)
    admin = admin_pb2_grpc.AdminServiceStub(channel)

    # Health for every DC, then the US outage.
    dcs = [s.datacenter.id
           for s in admin.ListDataCenters(admin_pb2.ListDataCentersRequest()).datacenters]
    if len(dcs) != 21:
        fail(f"expected the 21 DCs of the example world, got {dcs}")
    for dc in dcs:
        reporting.ReportHealth(reporting_pb2.HealthReport(
            datacenter_id=dc, status=types_pb2.HEALTH_STATUS_HEALTHY, congestion=0.1,
            ttl=duration_pb2.Duration(seconds=600)))
    log("reported every DC HEALTHY")

    # Prometheus must be scraping before the outage so that the alert sees the counter rise.
    base = args.prometheus
    poll("Prometheus ready", lambda: urllib.request.urlopen(f"{base}/-/ready", timeout=2).status
         == 200, 20)

    def scraped_up():
        r = prom_get(base, "/api/v1/query", query='up{job="dcdir"}')["data"]["result"]
        return r and r[0]["value"][1] == "1"

    poll("first scrape of dcdir-server (up == 1)", scraped_up, 30)
    log("Prometheus scrapes dcdir-server")

    for dc in US_DCS:
        reporting.ReportHealth(reporting_pb2.HealthReport(
            datacenter_id=dc, status=types_pb2.HEALTH_STATUS_DOWN,
            ttl=duration_pb2.Duration(seconds=600)))
    log("reported the US DCs DOWN")

    for i in range(args.requests):
        d = directory.GetDirectory(directory_pb2.GetDirectoryRequest(
            client_country="US", client_id=f"e2e-client-{i}"))
        secondaries = [dc.id for dc in d.secondaries]
        if d.primaries or not d.fallback_active or secondaries[:2] != ["ca-yyz", "ca-yvr"]:
            fail(f"US answer {i}: primaries {[p.id for p in d.primaries]}, "
                 f"fallback {d.fallback_active}, secondaries {secondaries}")
        if any(dc.region == "cn" for dc in d.secondaries):
            fail("a US client was offered a mainland-China DC")
    log(f"{args.requests} US clients got a fallback to ca-yyz, ca-yvr")

    expected = 2 * args.requests  # the first secondary_attempts (2) secondaries, both in ca
    query = 'dcdir_cross_border_fallback_total{client_region="us",dc_region="ca"}'

    def counter_value():
        r = prom_get(base, "/api/v1/query", query=query)["data"]["result"]
        return r and float(r[0]["value"][1]) == expected and r[0]["value"][1]

    value = poll(f"{query} == {expected}", counter_value, 30)
    log(f"Prometheus: {query} = {value}")
    # Nothing else crossed a border.
    others = prom_get(base, "/api/v1/query",
                      query='sum(dcdir_cross_border_fallback_total) - '
                            'sum(dcdir_cross_border_fallback_total{client_region="us",dc_region="ca"})'
                      )["data"]["result"]
    if not others or float(others[0]["value"][1]) != 0:
        fail(f"other cross-border series are not 0: {others}")

    def firing_alert():
        for a in prom_get(base, "/api/v1/alerts")["data"]["alerts"]:
            labels = a["labels"]
            if (labels.get("alertname") == "DcdirCrossBorderFallback" and a["state"] == "firing"
                    and labels.get("client_region") == "us" and labels.get("dc_region") == "ca"):
                return a
        return None

    alert = poll("firing alert DcdirCrossBorderFallback{client_region=us,dc_region=ca}",
                 firing_alert, 30)
    log(f"Prometheus: alert {alert['labels']['alertname']} {alert['state']}, "
        f"severity {alert['labels'].get('severity')}: {alert['annotations'].get('summary')}")

    # A 1 s audit window: the requests may be split over two lines; their counts add up.
    def audit_lines():
        entries = []
        with open(args.audit_log) as f:
            for line in f:
                entry = json.loads(line)
                if entry["client_region"] == "us" and entry["client_country"] == "US":
                    entries.append(entry)
        return sum(e["count"] for e in entries) == args.requests and entries

    entries = poll(f"audit lines for the {args.requests} US fallbacks", audit_lines, 15)
    for entry in entries:
        if (entry["event"] != "cross_border_fallback"
                or entry["cross_border_dcs"] != ["ca-yyz", "ca-yvr"]
                or entry["reason"] != "no_usable_primary" or entry["tenant"] is not None
                or [s["id"] for s in entry["secondaries"]] != ["ca-yyz", "ca-yvr"]):
            fail(f"unexpected audit line: {entry}")
    print(json.dumps(entries[0]))  # the audit line, for the record
    log(f"audit: {len(entries)} line(s), counts {[e['count'] for e in entries]}, reason "
        f"{entries[0]['reason']}, cross_border_dcs {entries[0]['cross_border_dcs']}")

if __name__ == "__main__":
    main()
