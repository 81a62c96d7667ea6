#!/usr/bin/env bash
# Once against a real public GeoIP database: npm @ip-location-db/geo-whois-asn-country-mmdb
# (CC0-1.0, country only, built from the RIRs' and ASN data; https://github.com/sapics/ip-location-db),
# pinned, fetched with `npm pack` into a temp dir, then dcdir's own GeoIpDatabase looks up a few
# well-known public addresses (tests/api/geoip_test.cc, RealGeoIpDatabaseTest).
#   tests/api/real_geoip_check.sh PATH/TO/dcdir_geoip_test
set -euo pipefail
test_bin="$1"
readonly pkg="@ip-location-db/geo-whois-asn-country-mmdb@2.3.2026061719"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
(cd "${work}" && npm pack --silent "${pkg}" >/dev/null)
tar -xzf "${work}"/*.tgz -C "${work}" package/geo-whois-asn-country.mmdb
DCDIR_REAL_GEOIP_DB="${work}/package/geo-whois-asn-country.mmdb" \
  "${test_bin}" --gtest_filter='RealGeoIpDatabaseTest.*' --gtest_also_run_disabled_tests
