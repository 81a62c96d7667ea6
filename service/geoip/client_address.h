#ifndef DCDIR_SERVICE_GEOIP_CLIENT_ADDRESS_H_
#define DCDIR_SERVICE_GEOIP_CLIENT_ADDRESS_H_

// Who the client is on the network: the gRPC peer, or, when the peer is a trusted proxy (e.g. a
// Kubernetes ingress), the address the proxy forwards in `x-forwarded-for` or RFC 7239
// `forwarded`. Pure functions: no I/O.

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dcdir::geoip {

// An IPv4 or IPv6 address (IPv4-mapped IPv6 addresses are IPv4).
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4: the first 4
  bool operator==(const IpAddress&) const = default;
  // For MMDB_lookup_sockaddr.
  sockaddr_storage ToSockaddr() const;
  std::string ToString() const;
};

// "1.2.3.4", "2001:db8::1", "[2001:db8::1]", "::ffff:1.2.3.4"; nullopt otherwise.
std::optional<IpAddress> ParseIp(std::string_view text);

// A gRPC peer string: "ipv4:1.2.3.4:5678", "ipv6:[2001:db8::1]:5678" (also with %-encoded
// brackets). nullopt for anything else (unix sockets, in-process).
std::optional<IpAddress> ParsePeer(std::string_view peer);

// A network in CIDR form, "10.0.0.0/8", "2001:db8::/32" (a bare address is /32 or /128).
struct Cidr {
  IpAddress base;
  int prefix = 0;
  bool Contains(const IpAddress& ip) const;
};

// "10.0.0.0/8,192.168.0.0/16"; empty text: no network. INVALID_ARGUMENT naming the bad item.
absl::StatusOr<std::vector<Cidr>> ParseCidrList(std::string_view text);

// The client's address. `forwarded_for` and `forwarded` are the values of those request headers
// (empty when absent; several header lines joined by ","). When `peer` is inside `trusted`:
//  - x-forwarded-for: the right-most address that is not itself inside `trusted` (each proxy
//    appends the address it saw, so the right-most untrusted one is the first a trusted proxy
//    saw; addresses to its left are whatever the client claimed);
//  - else forwarded: the same over its `for=` parameters (quoted, bracketed IPv6, with ports);
//  - else, or when every forwarded address is trusted or unparsable, the peer itself.
// An untrusted peer's headers are ignored. nullopt when the peer is not an IP address.
std::optional<IpAddress> ClientAddress(std::string_view peer, std::string_view forwarded_for,
                                       std::string_view forwarded,
                                       const std::vector<Cidr>& trusted);

}  // namespace dcdir::geoip

#endif  // DCDIR_SERVICE_GEOIP_CLIENT_ADDRESS_H_
