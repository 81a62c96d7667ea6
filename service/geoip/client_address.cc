#include "service/geoip/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dcdir::geoip {
namespace {

absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool InAny(const IpAddress& ip, const std::vector<Cidr>& nets) {
  for (const Cidr& c : nets)
    if (c.Contains(ip)) return true;
  return false;
}

// The right-most item of `items` (already in order) that parses and is not trusted.
std::optional<IpAddress> RightMostUntrusted(const std::vector<std::optional<IpAddress>>& items,
                                            const std::vector<Cidr>& trusted) {
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    if (!it->has_value()) return std::nullopt;  // garbage: trust nothing to its left
    if (!InAny(**it, trusted)) return *it;
  }
  return std::nullopt;
}

// A forwarded node: "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:80", quoted or not.
std::optional<IpAddress> ParseNode(absl::string_view node) {
  node = absl::StripAsciiWhitespace(node);
  if (node.size() >= 2 && node.front() == '"' && node.back() == '"') {
    node = node.substr(1, node.size() - 2);
  }
  if (!node.empty() && node.front() == '[') {
    const size_t close = node.find(']');
    if (close == absl::string_view::npos) return std::nullopt;
    return ParseIp(std::string_view(node.data() + 1, close - 1));
  }
  if (std::count(node.begin(), node.end(), ':') == 1) node = node.substr(0, node.find(':'));
  return ParseIp(std::string_view(node.data(), node.size()));
}

}  // namespace

sockaddr_storage IpAddress::ToSockaddr() const {
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof(ss));
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    std::memcpy(&a->sin6_addr, bytes.data(), 16);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    std::memcpy(&a->sin_addr, bytes.data(), 4);
  }
  return ss;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf));
  return buf;
}

std::optional<IpAddress> ParseIp(std::string_view text) {
  std::string s(text);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  IpAddress ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes.data(), kMapped, 12) == 0) {
      IpAddress v4;
      std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
      return v4;
    }
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

std::optional<IpAddress> ParsePeer(std::string_view peer) {
  absl::string_view p = AsAbsl(peer);
  if (absl::ConsumePrefix(&p, "ipv4:")) {
    const size_t colon = p.rfind(':');
    if (colon == absl::string_view::npos) return std::nullopt;
    return ParseIp(std::string_view(p.data(), colon));
  }
  if (absl::ConsumePrefix(&p, "ipv6:")) {
    std::string s(p);
    // gRPC may %-encode the brackets.
    for (auto [from, to] : {std::pair{"%5B", "["}, std::pair{"%5D", "]"}}) {
      for (size_t at; (at = s.find(from)) != std::string::npos;) s.replace(at, 3, to);
    }
    const size_t close = s.find(']');
    if (s.empty() || s.front() != '[' || close == std::string::npos) return std::nullopt;
    return ParseIp(std::string_view(s).substr(1, close - 1));
  }
  return std::nullopt;
}

bool Cidr::Contains(const IpAddress& ip) const {
  if (ip.v6 != base.v6) return false;
  int bits = prefix;
  for (size_t k = 0; bits > 0; ++k, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[k] & mask) != (base.bytes[k] & mask)) return false;
  }
  return true;
}

absl::StatusOr<std::vector<Cidr>> ParseCidrList(std::string_view text) {
  std::vector<Cidr> out;
  for (absl::string_view item : absl::StrSplit(AsAbsl(text), ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    Cidr c;
    absl::string_view addr = item;
    const size_t slash = item.find('/');
    if (slash != absl::string_view::npos) addr = item.substr(0, slash);
    auto ip = ParseIp(std::string_view(addr.data(), addr.size()));
    const int max = ip.has_value() && ip->v6 ? 128 : 32;
    c.prefix = max;
    if (ip.has_value() && slash != absl::string_view::npos &&
        !absl::SimpleAtoi(item.substr(slash + 1), &c.prefix)) {
      ip.reset();
    }
    if (!ip.has_value() || c.prefix < 0 || c.prefix > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", item, "\" is not a network such as 10.0.0.0/8 or 2001:db8::/32"));
    }
    c.base = *ip;
    out.push_back(c);
  }
  return out;
}

std::optional<IpAddress> ClientAddress(std::string_view peer, std::string_view forwarded_for,
                                       std::string_view forwarded,
                                       const std::vector<Cidr>& trusted) {
  std::optional<IpAddress> ip = ParsePeer(peer);
  if (!ip.has_value() || !InAny(*ip, trusted)) return ip;
  if (!forwarded_for.empty()) {
    std::vector<std::optional<IpAddress>> items;
    for (absl::string_view item : absl::StrSplit(AsAbsl(forwarded_for), ',')) {
      items.push_back(ParseNode(item));
    }
    if (auto found = RightMostUntrusted(items, trusted)) return found;
    return ip;
  }
  if (!forwarded.empty()) {
    std::vector<std::optional<IpAddress>> items;
    for (absl::string_view element : absl::StrSplit(AsAbsl(forwarded), ',')) {
      for (absl::string_view pair : absl::StrSplit(element, ';')) {
        pair = absl::StripAsciiWhitespace(pair);
        if (pair.size() > 4 && absl::EqualsIgnoreCase(pair.substr(0, 4), "for=")) {
          items.push_back(ParseNode(pair.substr(4)));
        }
      }
    }
    if (auto found = RightMostUntrusted(items, trusted)) return found;
  }
  return ip;
}

}  // namespace dcdir::geoip
