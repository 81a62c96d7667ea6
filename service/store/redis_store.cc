#include "service/store/redis_store.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "service/core/tenant_id.h"
#include "service/util/log.h"

namespace dcdir::store {
namespace {

// SET the value, optionally PEXPIREAT, then PUBLISH the change: one atomic round trip.
// KEYS[1] key; ARGV: value, expire-at ms or "" (none), channel, message, grace ms. The key is
// kept until max(expire-at, Redis' TIME + grace): an already-expired record stays readable.
constexpr absl::string_view kPutScript =
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "if ARGV[2] ~= '' then\n"
    "  local t = redis.call('TIME')\n"
    "  local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "  local at = math.max(tonumber(ARGV[2]), now_ms + tonumber(ARGV[5]))\n"
    "  redis.call('PEXPIREAT', KEYS[1], string.format('%d', at))\n"
    "end\n"
    "redis.call('PUBLISH', ARGV[3], ARGV[4])\n"
    "return 1\n";

// A tenant write: SET the value, log it (the epoch is created on the first logged write; the
// version is bumped and the id's score in the log set to it), PUBLISH. One atomic round trip.
// KEYS: tenant key, version key, epoch key, log key; ARGV: value, tenant id, channel, message,
// epoch to create when there is none. Returns the new version.
constexpr absl::string_view kPutTenantScript =
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "redis.call('SET', KEYS[3], ARGV[5], 'NX')\n"
    "local v = redis.call('INCR', KEYS[2])\n"
    "redis.call('ZADD', KEYS[4], v, ARGV[2])\n"
    "redis.call('PUBLISH', ARGV[3], ARGV[4])\n"
    "return v\n";

// A tenant delete: DEL, and when something was deleted log it and PUBLISH (KEYS and ARGV as
// kPutTenantScript, without the value: ARGV tenant id, channel, message, epoch). Returns the
// number of keys deleted.
constexpr absl::string_view kDeleteTenantScript =
    "local n = redis.call('DEL', KEYS[1])\n"
    "if n > 0 then\n"
    "  redis.call('SET', KEYS[3], ARGV[4], 'NX')\n"
    "  local v = redis.call('INCR', KEYS[2])\n"
    "  redis.call('ZADD', KEYS[4], v, ARGV[1])\n"
    "  redis.call('PUBLISH', ARGV[2], ARGV[3])\n"
    "end\n"
    "return n\n";

// The tenant log after a version. KEYS: epoch key, version key, log key; ARGV: the version
// after which to list, the most ids to return. Returns {epoch or "", version or "0",
// {id, score, id, score, ...}} (ids in version order).
constexpr absl::string_view kTenantLogScript =
    "local e = redis.call('GET', KEYS[1]) or ''\n"
    "local v = redis.call('GET', KEYS[2]) or '0'\n"
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[1], '+inf', 'WITHSCORES',\n"
    "                       'LIMIT', 0, tonumber(ARGV[2]))\n"
    "return {e, v, ids}\n";

// A bounded read of string values. For each key in order: {STRLEN, value}, where the value is
// returned only when 0 < STRLEN <= ARGV[1] (the largest value accepted); STRLEN is -1 for a
// missing key and -2 for a key of another type (the value is then the error message). Values
// stop (the reply is shorter than KEYS) once they would pass ARGV[2] bytes in this reply, so
// one reply never carries more than ARGV[2] + ARGV[1] bytes of values, whatever is stored.
constexpr absl::string_view kReadScript =
    "local max = tonumber(ARGV[1])\n"
    "local budget = tonumber(ARGV[2])\n"
    "local out = {}\n"
    "for i, k in ipairs(KEYS) do\n"
    "  local n = redis.pcall('STRLEN', k)\n"
    "  if type(n) == 'table' then\n"
    "    out[i] = {-2, n.err or 'error'}\n"
    "  elseif n == 0 then\n"
    "    if redis.call('EXISTS', k) == 1 then out[i] = {0, ''} else out[i] = {-1, ''} end\n"
    "  elseif n > max then\n"
    "    out[i] = {n, ''}\n"
    "  else\n"
    "    if n > budget and i > 1 then return out end\n"
    "    budget = budget - n\n"
    "    out[i] = {n, redis.call('GET', k)}\n"
    "  end\n"
    "end\n"
    "return out\n";

// SCAN, with key names longer than ARGV[4] bytes left out of the list and reported apart (their
// first ARGV[4] bytes and their length), so that no key name of any size is ever sent whole.
// ARGV: cursor, pattern, count, longest key name. Returns {cursor, {keys}, {prefix, length,
// ...}}.
constexpr absl::string_view kScanScript =
    "local r = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', tonumber(ARGV[3]))\n"
    "local max = tonumber(ARGV[4])\n"
    "local keys, long = {}, {}\n"
    "for _, k in ipairs(r[2]) do\n"
    "  if #k <= max then keys[#keys + 1] = k\n"
    "  else long[#long + 1] = string.sub(k, 1, max); long[#long + 1] = #k end\n"
    "end\n"
    "return {r[1], keys, long}\n";

constexpr absl::string_view kHealthInfix = "health:";
constexpr absl::string_view kTenantInfix = "tenant:";
constexpr absl::string_view kChangesSuffix = "changes";
// Not matched by the tenant keys' SCAN pattern ("<prefix>tenant:*").
constexpr absl::string_view kTenantVersionSuffix = "tenants:version";
constexpr absl::string_view kTenantEpochSuffix = "tenants:epoch";
constexpr absl::string_view kTenantLogSuffix = "tenants:log";
constexpr size_t kMaxLoggedBadKeys = 10000;
// Ids per round trip when reading the tenant log (bounded replies).
constexpr size_t kTenantLogBatch = 10000;


absl::string_view ReplyString(const redisReply* r) {
  return absl::string_view(r->str, static_cast<size_t>(r->len));
}

// Error replies that mean "this node cannot serve us now": reconnect (and rediscover).
bool IsNodeStateError(absl::string_view message) {
  return absl::StartsWith(message, "READONLY") || absl::StartsWith(message, "LOADING") ||
         absl::StartsWith(message, "MASTERDOWN") || absl::StartsWith(message, "NOAUTH") ||
         absl::StartsWith(message, "WRONGPASS") || absl::StartsWith(message, "BUSY") ||
         absl::StartsWith(message, "TRYAGAIN") || absl::StartsWith(message, "CLUSTERDOWN");
}

// A Redis glob matching exactly the literal `s` as a prefix.
std::string GlobPrefix(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' || c == '^') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('*');
  return out;
}

// Printable, bounded form of a key for logs.
std::string PrintableKey(absl::string_view key) {
  constexpr size_t kMax = 200;
  std::string out = absl::CHexEscape(key.substr(0, kMax));
  if (key.size() > kMax) out.append("...");
  return out;
}

void IgnoreSigpipeOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      signal(SIGPIPE, SIG_IGN);
    }
  });
}

// The verdict settings of Options (core/up_down_verdict.h); the damping cap is never below the
// base.
core::UpDownVerdict::Options VerdictOptions(const RedisStore::Options& o) {
  return {o.down_after, o.up_after, std::max(o.up_after, o.max_up_after), o.flap_window};
}

}  // namespace

void RedisStore::ContextDeleter::operator()(redisContext* c) const {
  if (c != nullptr) redisFree(c);
}
void RedisStore::ReplyDeleter::operator()(redisReply* r) const {
  if (r != nullptr) freeReplyObject(r);
}

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Create(Options options) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl(options.url);
  if (!url.ok()) return url.status();
  auto positive = [](absl::Duration d) { return d > absl::ZeroDuration() && d < absl::InfiniteDuration(); };
  if (!positive(options.op_timeout) || !positive(options.connect_timeout) ||
      !positive(options.probe_interval) || !positive(options.backoff_initial) ||
      !positive(options.backoff_max) || options.backoff_max < options.backoff_initial) {
    return absl::InvalidArgumentError(
        "Redis store timeouts must be positive and finite, backoff_max >= backoff_initial");
  }
  if (options.expiry_grace < absl::ZeroDuration() || options.scan_count == 0 ||
      options.max_value_bytes == 0 || options.max_reply_bytes == 0 ||
      options.max_key_bytes == 0) {
    return absl::InvalidArgumentError(
        "Redis store: expiry_grace must be >= 0; scan_count, max_value_bytes, max_reply_bytes "
        "and max_key_bytes > 0");
  }
  if (options.down_after < 1 || options.up_after < 1 || options.wait_replicas < 0 ||
      !positive(options.wait_timeout)) {
    return absl::InvalidArgumentError(
        "Redis store: down_after and up_after must be >= 1, wait_replicas >= 0, wait_timeout "
        "positive and finite");
  }
  IgnoreSigpipeOnce();
  std::unique_ptr<RedisStore> store(new RedisStore(std::move(options), *std::move(url)));
  if (store->url_.mode == RedisUrl::Mode::kSentinel) {
    store->sentinel_views_.resize(store->url_.hosts.size());
    for (size_t i = 0; i < store->url_.hosts.size(); ++i) {
      store->sentinel_watchers_.emplace_back([s = store.get(), i] { s->SentinelWatchLoop(i); });
    }
  }
  // First attempt in the caller's thread so that a healthy Redis is usable at once.
  absl::StatusOr<std::pair<ContextPtr, HostPort>> first = store->ConnectToMaster();
  if (first.ok()) {
    std::lock_guard<std::mutex> lock(store->mu_);
    store->cmd_ = std::move(first->first);
    store->master_ = first->second;
    store->generation_.fetch_add(1);
    store->verdict_ = core::UpDownVerdict(VerdictOptions(store->options_), /*up=*/true);
    store->available_.store(true, std::memory_order_release);
    DCDIR_LOG(kInfo) << "redis store: connected to " << FormatHostPort(first->second);
  } else {
    DCDIR_LOG(kWarning) << "redis store: not reachable at start, retrying in the background: "
                        << first.status().message();
  }
  store->monitor_ = std::thread([s = store.get()] { s->MonitorLoop(); });
  return store;
}

RedisStore::RedisStore(Options options, RedisUrl url)
    : options_(std::move(options)),
      url_(std::move(url)),
      verdict_(VerdictOptions(options_), /*up=*/false) {}

RedisStore::~RedisStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    stopping_.store(true);
    cv_.notify_all();
  }
  if (monitor_.joinable()) monitor_.join();
  if (subscriber_.joinable()) subscriber_.join();
  for (std::thread& watcher : sentinel_watchers_) watcher.join();
}

std::string RedisStore::HealthKey(std::string_view dc_id) const {
  return absl::StrCat(options_.key_prefix, kHealthInfix, absl::string_view(dc_id.data(), dc_id.size()));
}
std::string RedisStore::TenantKey(std::string_view tenant_id) const {
  return absl::StrCat(options_.key_prefix, kTenantInfix, absl::string_view(tenant_id.data(), tenant_id.size()));
}
std::string RedisStore::ChangesChannel() const {
  return absl::StrCat(options_.key_prefix, kChangesSuffix);
}

// ---- connections ----

absl::StatusOr<RedisStore::ReplyPtr> RedisStore::RawCommand(redisContext* ctx, const Args& args) {
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (absl::string_view a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), argvlen.data())));
  if (reply == nullptr) {
    return absl::UnavailableError(absl::StrCat("redis ", args[0], ": ", ctx->errstr));
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::UnavailableError(absl::StrCat("redis ", args[0], ": ", ReplyString(reply.get())));
  }
  return reply;
}

absl::StatusOr<RedisStore::ContextPtr> RedisStore::ConnectTo(const HostPort& target) const {
  ContextPtr ctx(redisConnectWithTimeout(target.host.c_str(), target.port,
                                         absl::ToTimeval(options_.connect_timeout)));
  if (ctx == nullptr) return absl::UnavailableError("redis: out of memory");
  if (ctx->err != 0) {
    return absl::UnavailableError(
        absl::StrCat("redis: cannot connect to ", FormatHostPort(target), ": ", ctx->errstr));
  }
  if (redisSetTimeout(ctx.get(), absl::ToTimeval(options_.op_timeout)) != REDIS_OK) {
    return absl::UnavailableError("redis: cannot set the socket timeout");
  }
  redisEnableKeepAlive(ctx.get());
  if (!options_.password.empty()) {
    absl::StatusOr<ReplyPtr> auth = RawCommand(ctx.get(), {"AUTH", options_.password});
    // The message is Redis' (e.g. WRONGPASS), never the password.
    if (!auth.ok()) return auth.status();
  }
  if (url_.db != 0) {
    std::string db = absl::StrCat(url_.db);
    absl::StatusOr<ReplyPtr> select = RawCommand(ctx.get(), {"SELECT", db});
    if (!select.ok()) return select.status();
  }
  return ctx;
}

absl::StatusOr<HostPort> RedisStore::AskSentinel(const HostPort& sentinel) const {
  ContextPtr ctx(redisConnectWithTimeout(sentinel.host.c_str(), sentinel.port,
                                         absl::ToTimeval(options_.connect_timeout)));
  if (ctx == nullptr || ctx->err != 0) {
    return absl::UnavailableError(absl::StrCat(FormatHostPort(sentinel), ": cannot connect"));
  }
  redisSetTimeout(ctx.get(), absl::ToTimeval(options_.op_timeout));
  absl::StatusOr<ReplyPtr> reply =
      RawCommand(ctx.get(), {"SENTINEL", "get-master-addr-by-name", url_.master_name});
  if (!reply.ok()) {
    return absl::UnavailableError(
        absl::StrCat(FormatHostPort(sentinel), ": ", reply.status().message()));
  }
  if (std::optional<HostPort> master = ParseMasterAddress(reply->get())) return *master;
  return absl::UnavailableError(absl::StrCat(FormatHostPort(sentinel),
                                             ": does not know master '", url_.master_name, "'"));
}

std::optional<HostPort> RedisStore::ParseMasterAddress(const redisReply* r) {
  int port = 0;
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
      r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
      absl::SimpleAtoi(ReplyString(r->element[1]), &port) && port > 0 && port < 65536) {
    return HostPort{std::string(ReplyString(r->element[0])), port};
  }
  return std::nullopt;
}

absl::StatusOr<RedisStore::ContextPtr> RedisStore::ConnectAndCheck(const HostPort& target) const {
  absl::StatusOr<ContextPtr> ctx = ConnectTo(target);
  if (!ctx.ok()) return ctx.status();
  if (url_.mode == RedisUrl::Mode::kDirect) {
    // A connect alone proves little (a hung process still completes the TCP handshake): TIME
    // both proves the node answers and samples the store's clock.
    if (absl::Status time = SampleTime(ctx->get()); !time.ok()) return time;
    return ctx;
  }
  absl::StatusOr<ReplyPtr> role = RawCommand(ctx->get(), {"ROLE"});
  if (!role.ok()) return role.status();
  const redisReply* r = role->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
      r->element[0]->type != REDIS_REPLY_STRING || ReplyString(r->element[0]) != "master") {
    return absl::UnavailableError(
        absl::StrCat("redis: ", FormatHostPort(target), " is not a master (yet)"));
  }
  if (absl::Status time = SampleTime(ctx->get()); !time.ok()) return time;
  return ctx;
}

absl::Status RedisStore::SampleTime(redisContext* ctx) const {
  const auto before = std::chrono::steady_clock::now();
  absl::StatusOr<ReplyPtr> reply = RawCommand(ctx, {"TIME"});
  const auto after = std::chrono::steady_clock::now();
  if (!reply.ok()) return reply.status();
  const redisReply* r = reply->get();
  int64_t seconds = 0, micros = 0;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING ||
      !absl::SimpleAtoi(ReplyString(r->element[0]), &seconds) ||
      !absl::SimpleAtoi(ReplyString(r->element[1]), &micros)) {
    return absl::UnavailableError("redis: unexpected TIME reply");
  }
  std::lock_guard<std::mutex> lock(time_mu_);
  time_sample_ = TimeSample{absl::FromUnixSeconds(seconds) + absl::Microseconds(micros),
                            before + (after - before) / 2};
  return absl::OkStatus();
}

std::optional<absl::Time> RedisStore::SharedTime() const {
  std::lock_guard<std::mutex> lock(time_mu_);
  if (!time_sample_.has_value()) return std::nullopt;
  return time_sample_->redis_time +
         absl::FromChrono(std::chrono::steady_clock::now() - time_sample_->local);
}

absl::StatusOr<std::pair<RedisStore::ContextPtr, HostPort>> RedisStore::ConnectToMaster() const {
  if (url_.mode == RedisUrl::Mode::kDirect) {
    absl::StatusOr<ContextPtr> ctx = ConnectAndCheck(url_.hosts.front());
    if (!ctx.ok()) return ctx.status();
    return std::make_pair(*std::move(ctx), url_.hosts.front());
  }
  // Each sentinel's answer in turn: one stale or partitioned sentinel must not block us.
  std::string errors;
  for (const HostPort& sentinel : url_.hosts) {
    absl::StatusOr<HostPort> master = AskSentinel(sentinel);
    if (!master.ok()) {
      absl::StrAppend(&errors, " ", master.status().message(), ";");
      continue;
    }
    absl::StatusOr<ContextPtr> ctx = ConnectAndCheck(*master);
    if (ctx.ok()) return std::make_pair(*std::move(ctx), *std::move(master));
    absl::StrAppend(&errors, " ", ctx.status().message(), ";");
  }
  return absl::UnavailableError(absl::StrCat("redis sentinel: no usable master:", errors));
}

void RedisStore::DropLocked(absl::string_view reason, bool failure) {
  if (cmd_ == nullptr) return;
  cmd_.reset();
  DCDIR_LOG(kWarning) << "redis store: connection dropped (" << reason << "); reconnecting";
  if (failure) RecordFailureLocked(reason);
  cv_.notify_all();
}

namespace {
// The monotonic clock, as the absl::Time core::UpDownVerdict takes.
absl::Time MonotonicNow() {
  return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}
}  // namespace

void RedisStore::RecordFailureLocked(absl::string_view reason) {
  if (verdict_.RecordFailure(MonotonicNow())) {
    available_.store(false, std::memory_order_release);
    DCDIR_LOG(kWarning) << "redis store unavailable (" << verdict_.failures()
                        << " consecutive failed round trips, the last: " << reason << "); "
                        << verdict_.successes_needed() << " good ones needed to come back";
  }
}

void RedisStore::MarkDownLocked(absl::string_view reason) {
  if (verdict_.ForceDown(MonotonicNow())) {
    available_.store(false, std::memory_order_release);
    DCDIR_LOG(kWarning) << "redis store unavailable (" << reason << "); "
                        << verdict_.successes_needed() << " good round trips needed to come back";
  }
}

void RedisStore::RecordSuccessLocked() {
  if (verdict_.RecordSuccess(MonotonicNow())) {
    available_.store(true, std::memory_order_release);
    DCDIR_LOG(kInfo) << "redis store available again (" << verdict_.successes_needed()
                     << " consecutive good round trips with " << FormatHostPort(master_) << ")";
  }
}

absl::StatusOr<std::vector<RedisStore::ReplyPtr>> RedisStore::Pipeline(
    const std::vector<Args>& commands, absl::Duration extra_timeout, bool* sent) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cmd_ == nullptr) return absl::UnavailableError("redis store unavailable (reconnecting)");
  if (!available_.load(std::memory_order_relaxed)) {
    return absl::UnavailableError(
        "redis store unavailable (connected, waiting for good probes before use)");
  }
  if (sent != nullptr) *sent = true;
  // The socket's timeout bounds each read; a command that waits inside Redis (WAIT) needs more.
  struct TimeoutScope {
    const ContextPtr& ctx;  // reset by DropLocked on failure: then nothing to restore
    absl::Duration base;
    bool changed;
    ~TimeoutScope() {
      if (changed && ctx != nullptr) redisSetTimeout(ctx.get(), absl::ToTimeval(base));
    }
  } scope{cmd_, options_.op_timeout, extra_timeout > absl::ZeroDuration()};
  if (scope.changed) {
    redisSetTimeout(cmd_.get(), absl::ToTimeval(options_.op_timeout + extra_timeout));
  }
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  for (const Args& args : commands) {
    argv.clear();
    argvlen.clear();
    for (absl::string_view a : args) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    if (redisAppendCommandArgv(cmd_.get(), static_cast<int>(argv.size()), argv.data(),
                               argvlen.data()) != REDIS_OK) {
      std::string error = absl::StrCat("redis: ", cmd_->errstr);
      DropLocked(error);
      return absl::UnavailableError(error);
    }
  }
  std::vector<ReplyPtr> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(cmd_.get(), &raw) != REDIS_OK || raw == nullptr) {
      std::string error = absl::StrCat("redis ", commands[i][0], ": ", cmd_->errstr);
      if (cmd_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        error = absl::StrCat("redis ", commands[i][0], ": timed out after ",
                             absl::FormatDuration(options_.op_timeout + extra_timeout));
      }
      DropLocked(error);
      return absl::UnavailableError(error);
    }
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  for (size_t i = 0; i < replies.size(); ++i) {
    const redisReply* r = replies[i].get();
    if (r->type == REDIS_REPLY_ERROR && IsNodeStateError(ReplyString(r))) {
      std::string error = absl::StrCat("redis ", commands[i][0], ": ", ReplyString(r));
      DropLocked(error);
      return absl::UnavailableError(error);
    }
  }
  RecordSuccessLocked();
  return replies;
}

absl::StatusOr<RedisStore::ReplyPtr> RedisStore::Command(const Args& args) {
  absl::StatusOr<std::vector<ReplyPtr>> replies = Pipeline({args});
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

namespace {

absl::Status Unconfirmed(absl::string_view message) {
  absl::Status status = absl::UnavailableError(message);
  status.SetPayload(kReasonPayloadUrl, absl::Cord(kWriteUnconfirmedReason));
  return status;
}

}  // namespace

absl::StatusOr<RedisStore::ReplyPtr> RedisStore::ReplicatedWrite(const Args& args) {
  const int replicas = options_.wait_replicas;
  std::vector<Args> commands = {args};
  const std::string wait_replicas = absl::StrCat(replicas);
  const std::string wait_ms = absl::StrCat(absl::ToInt64Milliseconds(options_.wait_timeout));
  if (replicas > 0) commands.push_back({"WAIT", wait_replicas, wait_ms});
  bool sent = false;
  absl::StatusOr<std::vector<ReplyPtr>> replies =
      Pipeline(commands, replicas > 0 ? options_.wait_timeout : absl::ZeroDuration(), &sent);
  if (!replies.ok()) {
    if (!sent) {
      return absl::UnavailableError(
          absl::StrCat(replies.status().message(), "; the write was not applied"));
    }
    return Unconfirmed(absl::StrCat(
        replies.status().message(),
        "; the write may or may not have been applied: read it back, or repeat it"));
  }
  const redisReply* write = (*replies)[0].get();
  if (write->type == REDIS_REPLY_ERROR) {  // e.g. NOREPLICAS: refused, nothing written
    return absl::UnavailableError(
        absl::StrCat("redis: ", ReplyString(write), "; the write was not applied"));
  }
  // A delete that found nothing changed nothing: there is nothing to confirm.
  const bool changed = !(write->type == REDIS_REPLY_INTEGER && write->integer == 0);
  if (replicas > 0 && changed) {
    const redisReply* wait = (*replies)[1].get();
    const long long acked = wait->type == REDIS_REPLY_INTEGER ? wait->integer : -1;
    if (acked < replicas) {
      return Unconfirmed(absl::StrCat(
          "the write reached the Redis master but ",
          acked < 0 ? "WAIT failed"
                    : absl::StrCat("only ", acked, " of ", replicas, " replica(s) acknowledged it"),
          " within ", absl::FormatDuration(options_.wait_timeout),
          ": it may be lost if the master fails over; read it back, or repeat it"));
    }
  }
  return std::move((*replies)[0]);
}

// ---- background threads ----

bool RedisStore::SleepUnlessStopped(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  // wait_for runs on the steady clock: a wall-clock step neither stretches nor cuts the wait.
  cv_.wait_for(lock, absl::ToChronoNanoseconds(d), [this] { return stop_; });
  return stop_;
}

absl::Duration RedisStore::NextBackoff(absl::Duration* backoff) {
  thread_local absl::BitGen gen;
  // "Equal jitter": uniformly in [backoff/2, backoff], then double up to the cap.
  double factor = absl::Uniform(gen, 0.5, 1.0);
  absl::Duration wait = *backoff * factor;
  *backoff = std::min(*backoff * 2, options_.backoff_max);
  return wait;
}

absl::Status RedisStore::ProbeLocked() {
  // Behind Sentinel, ROLE also notices a master that was demoted while we were idle.
  if (url_.mode == RedisUrl::Mode::kSentinel) {
    absl::StatusOr<ReplyPtr> role = RawCommand(cmd_.get(), {"ROLE"});
    if (!role.ok()) return role.status();
    const redisReply* r = role->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
        r->element[0]->type != REDIS_REPLY_STRING || ReplyString(r->element[0]) != "master") {
      return absl::UnavailableError("the master was demoted");
    }
  }
  // TIME proves the node answers and re-samples the store's clock.
  return SampleTime(cmd_.get());
}

RedisStore::SentinelVerdict RedisStore::CheckSentinelsLocked(std::string* detail) const {
  if (url_.mode != RedisUrl::Mode::kSentinel) return SentinelVerdict::kConfirmed;
  // A watcher asks every probe_interval and waits at most op_timeout for the answer: a live
  // sentinel's last answer is never older than this (plus scheduling slack).
  const auto window = absl::ToChronoNanoseconds(options_.probe_interval + options_.op_timeout +
                                                absl::Milliseconds(100));
  const auto now = std::chrono::steady_clock::now();
  const size_t quorum = url_.hosts.size() / 2 + 1;
  size_t confirm = 0, fresh = 0;
  std::vector<std::pair<HostPort, size_t>> others;
  {
    std::lock_guard<std::mutex> lock(sentinel_mu_);
    for (const SentinelView& view : sentinel_views_) {
      if (!view.answered || now - view.at > window) continue;
      ++fresh;
      if (!view.master.has_value()) continue;
      if (*view.master == master_) {
        ++confirm;
        continue;
      }
      auto it = std::find_if(others.begin(), others.end(),
                             [&](const auto& o) { return o.first == *view.master; });
      if (it == others.end()) {
        others.emplace_back(*view.master, 1);
      } else {
        ++it->second;
      }
    }
  }
  if (confirm >= quorum) return SentinelVerdict::kConfirmed;
  for (const auto& [address, count] : others) {
    if (count >= quorum) {
      *detail = absl::StrCat(count, " of ", url_.hosts.size(), " sentinels name ",
                             FormatHostPort(address), " as the master, not ",
                             FormatHostPort(master_));
      return SentinelVerdict::kMoved;
    }
  }
  *detail = absl::StrCat("only ", confirm, " of ", url_.hosts.size(),
                         " sentinels confirm the master ", FormatHostPort(master_), " (", fresh,
                         " answered recently; a majority of ", quorum, " is needed)");
  return SentinelVerdict::kNoMajority;
}

void RedisStore::SentinelWatchLoop(size_t index) {
  const HostPort& sentinel = url_.hosts[index];
  ContextPtr ctx;
  while (!stopping_.load()) {
    if (ctx == nullptr) {
      ContextPtr fresh(redisConnectWithTimeout(sentinel.host.c_str(), sentinel.port,
                                               absl::ToTimeval(options_.connect_timeout)));
      if (fresh != nullptr && fresh->err == 0 &&
          redisSetTimeout(fresh.get(), absl::ToTimeval(options_.op_timeout)) == REDIS_OK) {
        ctx = std::move(fresh);
      }
    }
    if (ctx != nullptr) {
      absl::StatusOr<ReplyPtr> reply =
          RawCommand(ctx.get(), {"SENTINEL", "get-master-addr-by-name", url_.master_name});
      if (reply.ok()) {
        std::optional<HostPort> master = ParseMasterAddress(reply->get());
        std::lock_guard<std::mutex> lock(sentinel_mu_);
        sentinel_views_[index] = {true, std::move(master), std::chrono::steady_clock::now()};
      } else {
        ctx.reset();  // a timed-out reply may still arrive: never reuse the connection
      }
    }
    if (SleepUnlessStopped(options_.probe_interval)) return;
  }
}

void RedisStore::MonitorLoop() {
  absl::Duration backoff = options_.backoff_initial;
  bool logged_failure = false;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_) return;
      if (cmd_ != nullptr) {
        cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.probe_interval),
                     [this] { return stop_ || cmd_ == nullptr; });
        if (stop_) return;
        if (cmd_ != nullptr) {
          if (absl::Status probe = ProbeLocked(); !probe.ok()) {
            DropLocked(probe.message());
          } else {
            std::string detail;
            switch (CheckSentinelsLocked(&detail)) {
              case SentinelVerdict::kConfirmed:
                RecordSuccessLocked();
                break;
              case SentinelVerdict::kMoved:  // a failover: follow it (not a store failure)
                DropLocked(detail, /*failure=*/false);
                break;
              case SentinelVerdict::kNoMajority:
                // Cut off from the sentinels' majority: this node may be a minority master
                // whose writes will be discarded. Serve nothing from it until they confirm.
                MarkDownLocked(detail);
                break;
            }
          }
        }
        if (cmd_ != nullptr) continue;
        backoff = options_.backoff_initial;  // first reconnect attempt at once
        logged_failure = false;
      }
    }
    absl::StatusOr<std::pair<ContextPtr, HostPort>> conn = ConnectToMaster();
    if (conn.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      cmd_ = std::move(conn->first);
      master_ = conn->second;
      generation_.fetch_add(1);
      cv_.notify_all();
      DCDIR_LOG(kInfo) << "redis store: connected to " << FormatHostPort(master_);
      std::string detail;
      if (CheckSentinelsLocked(&detail) == SentinelVerdict::kConfirmed) {
        RecordSuccessLocked();
      } else {
        // Not yet confirmed by a majority (e.g. the watchers are reconnecting too): the next
        // probe asks again.
        RecordFailureLocked(detail);
      }
      backoff = options_.backoff_initial;
      logged_failure = false;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      RecordFailureLocked(conn.status().message());
    }
    if (!logged_failure) {
      DCDIR_LOG(kWarning) << "redis store: reconnect failed (will keep trying): "
                          << conn.status().message();
      logged_failure = true;
    }
    if (SleepUnlessStopped(NextBackoff(&backoff))) return;
  }
}

void RedisStore::SubscriberLoop() {
  const std::string channel = ChangesChannel();
  absl::Duration backoff = options_.backoff_initial;
  while (!stopping_.load()) {
    HostPort target;
    uint64_t generation;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || cmd_ != nullptr; });
      if (stop_) return;
      target = master_;
      generation = generation_.load();
    }
    absl::StatusOr<ContextPtr> ctx = ConnectTo(target);
    absl::Status status = ctx.status();
    if (status.ok()) {
      absl::StatusOr<ReplyPtr> reply = RawCommand(ctx->get(), {"SUBSCRIBE", channel});
      status = reply.status();
    }
    if (!status.ok()) {
      if (SleepUnlessStopped(NextBackoff(&backoff))) return;
      continue;
    }
    backoff = options_.backoff_initial;
    Notify({Change::Kind::kResync, ""});  // messages may have been missed while away
    subscribed_.store(true, std::memory_order_release);
    redisContext* c = ctx->get();
    while (!stopping_.load() && generation_.load() == generation) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c, &raw) != REDIS_OK) break;
      if (raw != nullptr) {
        ReplyPtr msg(static_cast<redisReply*>(raw));
        if (msg->type == REDIS_REPLY_ARRAY && msg->elements == 3 &&
            msg->element[0]->type == REDIS_REPLY_STRING &&
            ReplyString(msg->element[0]) == "message" &&
            msg->element[2]->type == REDIS_REPLY_STRING) {
          absl::string_view payload = ReplyString(msg->element[2]);
          if (absl::ConsumePrefix(&payload, "h:")) {
            Notify({Change::Kind::kHealth, std::string(payload)});
          } else if (absl::ConsumePrefix(&payload, "t:")) {
            Notify({Change::Kind::kTenant, std::string(payload)});
          } else {
            Notify({Change::Kind::kResync, ""});
          }
        }
        continue;
      }
      pollfd pfd{c->fd, POLLIN, 0};
      int ready = poll(&pfd, 1, 100);
      if (ready < 0 && errno != EINTR) break;
      if (ready > 0 && redisBufferRead(c) != REDIS_OK) break;
    }
    subscribed_.store(false, std::memory_order_release);
  }
}

void RedisStore::SetChangeListener(std::function<void(const Change&)> listener) {
  std::lock_guard<std::mutex> lock(listener_mu_);
  listener_ = std::move(listener);
  if (!subscriber_started_) {
    subscriber_started_ = true;
    subscriber_ = std::thread([this] { SubscriberLoop(); });
  }
}

void RedisStore::Notify(const Change& change) {
  std::function<void(const Change&)> listener;
  {
    std::lock_guard<std::mutex> lock(listener_mu_);
    listener = listener_;
  }
  if (listener) listener(change);
}

// ---- bad data and bounded reads ----

void RedisStore::CountBad(absl::string_view key, absl::string_view reason) {
  bad_records_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(bad_mu_);
  if (logged_bad_keys_.size() >= kMaxLoggedBadKeys || !logged_bad_keys_.emplace(key).second) return;
  DCDIR_LOG(kWarning) << "redis store: skipping bad value at key \"" << PrintableKey(key)
                      << "\": " << reason << " (logged once per key)";
}

absl::Status RedisStore::ReadValues(
    const std::vector<absl::string_view>& keys,
    const std::function<void(size_t, std::optional<absl::string_view>)>& on_value) {
  const std::string max_value = absl::StrCat(options_.max_value_bytes);
  const std::string budget = absl::StrCat(options_.max_reply_bytes);
  size_t next = 0;
  while (next < keys.size()) {
    const size_t end = std::min(keys.size(), next + options_.scan_count);
    Args eval = {"EVAL", kReadScript, ""};
    const std::string count = absl::StrCat(end - next);
    eval[2] = count;
    for (size_t i = next; i < end; ++i) eval.push_back(keys[i]);
    eval.push_back(max_value);
    eval.push_back(budget);
    absl::StatusOr<ReplyPtr> reply = Command(eval);
    if (!reply.ok()) return reply.status();
    const redisReply* r = reply->get();
    if (r->type == REDIS_REPLY_ERROR) {
      return absl::UnavailableError(absl::StrCat("redis: ", ReplyString(r)));
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 || r->elements > end - next) {
      return absl::UnavailableError("redis: unexpected reply to the bounded read");
    }
    for (size_t k = 0; k < r->elements; ++k) {
      const size_t index = next + k;
      const absl::string_view key = keys[index];
      const redisReply* item = r->element[k];
      if (item->type != REDIS_REPLY_ARRAY || item->elements != 2 ||
          item->element[0]->type != REDIS_REPLY_INTEGER ||
          item->element[1]->type != REDIS_REPLY_STRING) {
        return absl::UnavailableError("redis: unexpected reply to the bounded read");
      }
      const long long length = item->element[0]->integer;
      const absl::string_view value = ReplyString(item->element[1]);
      if (length == -1) {
        on_value(index, std::nullopt);  // gone since it was listed
      } else if (length == -2) {
        CountBad(key, absl::StrCat("wrong type: ", value));
        on_value(index, std::nullopt);
      } else if (length == 0) {
        CountBad(key, "empty value");
        on_value(index, std::nullopt);
      } else if (static_cast<size_t>(length) > options_.max_value_bytes) {
        CountBad(key, absl::StrCat("value too large (", length, " bytes, at most ",
                                   options_.max_value_bytes, " are read)"));
        on_value(index, std::nullopt);
      } else {
        on_value(index, value);
      }
    }
    next += r->elements;
  }
  return absl::OkStatus();
}

std::optional<core::HealthRecord> RedisStore::DecodeHealth(absl::string_view key,
                                                           absl::string_view value) {
  absl::StatusOr<core::HealthRecord> record =
      DecodeHealthRecord(std::string_view(value.data(), value.size()));
  if (!record.ok()) {
    CountBad(key, record.status().message());
    return std::nullopt;
  }
  return *record;
}

std::optional<core::TenantPolicy> RedisStore::DecodeTenant(absl::string_view key,
                                                           absl::string_view value,
                                                           absl::string_view tenant_id) {
  absl::StatusOr<core::TenantPolicy> policy =
      DecodeTenantPolicy(std::string_view(value.data(), value.size()));
  if (!policy.ok()) {
    CountBad(key, policy.status().message());
    return std::nullopt;
  }
  if (policy->tenant_id != tenant_id) {
    CountBad(key, "tenant id in the value does not match the key");
    return std::nullopt;
  }
  if (!core::IsValidTenantId(policy->tenant_id)) {
    // store.h, "Tenant ids".
    CountBad(key, absl::StrCat("tenant id is not 1-", core::kMaxTenantIdBytes,
                               " bytes of [A-Za-z0-9._-] (the API could not read or delete it)"));
    return std::nullopt;
  }
  return *std::move(policy);
}

// ---- the port ----

absl::StatusOr<std::optional<core::HealthRecord>> RedisStore::GetHealth(std::string_view dc_id) {
  const std::string key = HealthKey(dc_id);
  std::optional<core::HealthRecord> out;
  absl::Status status = ReadValues({key}, [&](size_t, std::optional<absl::string_view> value) {
    if (value.has_value()) out = DecodeHealth(key, *value);
  });
  if (!status.ok()) return status;
  return out;
}

absl::Status RedisStore::PutHealth(std::string_view dc_id, const core::HealthRecord& record) {
  std::string key = HealthKey(dc_id);
  std::string value = EncodeHealthRecord(record);
  std::string expire_at;  // "" = never
  const std::string grace = absl::StrCat(absl::ToInt64Milliseconds(options_.expiry_grace));
  if (record.expires_at == absl::InfinitePast()) {
    expire_at = "0";  // kept for the grace from now
  } else if (record.expires_at != absl::InfiniteFuture()) {
    expire_at = absl::StrCat(absl::ToUnixMillis(record.expires_at + options_.expiry_grace) + 1);
  }
  std::string channel = ChangesChannel();
  std::string message = absl::StrCat("h:", absl::string_view(dc_id.data(), dc_id.size()));
  absl::StatusOr<ReplyPtr> reply =
      Command({"EVAL", kPutScript, "1", key, value, expire_at, channel, message, grace});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_ERROR) {
    return absl::UnavailableError(absl::StrCat("redis: ", ReplyString(reply->get())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<core::TenantPolicy>> RedisStore::GetTenant(
    std::string_view tenant_id) {
  absl::StatusOr<std::vector<TenantRead>> read = GetTenants({std::string(tenant_id)});
  if (!read.ok()) return read.status();
  return std::move(read->front().policy);
}

absl::StatusOr<std::vector<TenantRead>> RedisStore::GetTenants(
    const std::vector<std::string>& ids) {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const std::string& id : ids) keys.push_back(TenantKey(id));
  std::vector<absl::string_view> views(keys.begin(), keys.end());
  std::vector<TenantRead> out(ids.size());
  absl::Status status =
      ReadValues(views, [&](size_t i, std::optional<absl::string_view> value) {
        out[i].tenant_id = ids[i];
        if (value.has_value()) out[i].policy = DecodeTenant(views[i], *value, ids[i]);
      });
  if (!status.ok()) return status;
  return out;
}

std::string RedisStore::NewEpoch() {
  thread_local absl::BitGen gen;
  return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(gen)),
                      absl::Hex(absl::Uniform<uint64_t>(gen)));
}

absl::Status RedisStore::PutTenant(const core::TenantPolicy& policy) {
  if (!core::IsValidTenantId(policy.tenant_id)) return InvalidTenantIdError(policy.tenant_id);
  const std::string key = TenantKey(policy.tenant_id);
  const std::string value = EncodeTenantPolicy(policy);
  const std::string version_key = absl::StrCat(options_.key_prefix, kTenantVersionSuffix);
  const std::string epoch_key = absl::StrCat(options_.key_prefix, kTenantEpochSuffix);
  const std::string log_key = absl::StrCat(options_.key_prefix, kTenantLogSuffix);
  const std::string channel = ChangesChannel();
  const std::string message = absl::StrCat("t:", policy.tenant_id);
  const std::string epoch = NewEpoch();
  absl::StatusOr<ReplyPtr> reply =
      ReplicatedWrite({"EVAL", kPutTenantScript, "4", key, version_key, epoch_key, log_key,
                       value, policy.tenant_id, channel, message, epoch});
  if (!reply.ok()) return reply.status();
  return absl::OkStatus();
}

absl::StatusOr<bool> RedisStore::DeleteTenant(std::string_view tenant_id) {
  const absl::string_view id(tenant_id.data(), tenant_id.size());
  const std::string key = TenantKey(tenant_id);
  const std::string version_key = absl::StrCat(options_.key_prefix, kTenantVersionSuffix);
  const std::string epoch_key = absl::StrCat(options_.key_prefix, kTenantEpochSuffix);
  const std::string log_key = absl::StrCat(options_.key_prefix, kTenantLogSuffix);
  const std::string channel = ChangesChannel();
  const std::string message = absl::StrCat("t:", id);
  const std::string epoch = NewEpoch();
  absl::StatusOr<ReplyPtr> reply =
      ReplicatedWrite({"EVAL", kDeleteTenantScript, "4", key, version_key, epoch_key, log_key,
                       id, channel, message, epoch});
  if (!reply.ok()) return reply.status();
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_INTEGER) {
    return absl::UnavailableError(absl::StrCat(
        "redis: unexpected DEL reply", r->type == REDIS_REPLY_ERROR ? ": " : "",
        r->type == REDIS_REPLY_ERROR ? ReplyString(r) : ""));
  }
  return r->integer > 0;
}

absl::StatusOr<TenantLogPosition> RedisStore::ReadTenantLog(
    uint64_t after, std::vector<std::string>* ids, bool* truncated) {
  const std::string epoch_key = absl::StrCat(options_.key_prefix, kTenantEpochSuffix);
  const std::string version_key = absl::StrCat(options_.key_prefix, kTenantVersionSuffix);
  const std::string log_key = absl::StrCat(options_.key_prefix, kTenantLogSuffix);
  const std::string from = absl::StrCat(after);
  const std::string limit = absl::StrCat(ids == nullptr ? 0 : kTenantLogBatch);
  absl::StatusOr<ReplyPtr> reply =
      Command({"EVAL", kTenantLogScript, "3", epoch_key, version_key, log_key, from, limit});
  if (!reply.ok()) return reply.status();
  const redisReply* r = reply->get();
  TenantLogPosition position;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
      r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING ||
      r->element[2]->type != REDIS_REPLY_ARRAY ||
      !absl::SimpleAtoi(ReplyString(r->element[1]), &position.version)) {
    return absl::UnavailableError("redis: unexpected reply reading the tenant log");
  }
  position.epoch = std::string(ReplyString(r->element[0]));
  const redisReply* log = r->element[2];
  if (truncated != nullptr) *truncated = false;
  if (ids == nullptr) return position;
  uint64_t last = after;
  for (size_t i = 0; i + 1 < log->elements; i += 2) {
    if (log->element[i]->type != REDIS_REPLY_STRING ||
        log->element[i + 1]->type != REDIS_REPLY_STRING ||
        !absl::SimpleAtoi(ReplyString(log->element[i + 1]), &last)) {
      return absl::UnavailableError("redis: unexpected entry in the tenant log");
    }
    ids->emplace_back(ReplyString(log->element[i]));
  }
  if (log->elements / 2 >= kTenantLogBatch && truncated != nullptr) {
    *truncated = true;
    position.version = last;  // the next batch starts after the last id listed
  }
  return position;
}

absl::StatusOr<std::optional<TenantChanges>> RedisStore::TenantChangesSince(
    const TenantLogPosition& since) {
  TenantChanges changes;
  uint64_t after = since.version;
  for (;;) {
    bool truncated = false;
    absl::StatusOr<TenantLogPosition> position = ReadTenantLog(after, &changes.ids, &truncated);
    if (!position.ok()) return position.status();
    // Another history (the store was flushed or replaced), or a log that went backwards (a
    // failover lost writes): the ids cannot be trusted to cover every change.
    const bool same_history =
        position->epoch == since.epoch || (since.epoch.empty() && since.version == 0);
    if (!same_history || (!truncated && position->version < since.version)) {
      return std::optional<TenantChanges>();
    }
    changes.position = *position;
    if (!truncated) break;
    after = position->version;
  }
  // A tenant written twice is listed once (a ZSET member has one score); across batches too.
  std::sort(changes.ids.begin(), changes.ids.end());
  changes.ids.erase(std::unique(changes.ids.begin(), changes.ids.end()), changes.ids.end());
  return changes;
}

absl::Status RedisStore::ScanValues(
    const std::string& prefix,
    const std::function<void(absl::string_view, absl::string_view)>& on_value) {
  const std::string pattern = GlobPrefix(prefix);
  const std::string count = absl::StrCat(options_.scan_count);
  const std::string max_key = absl::StrCat(options_.max_key_bytes);
  std::string cursor = "0";
  do {
    absl::StatusOr<ReplyPtr> scan =
        Command({"EVAL", kScanScript, "0", cursor, pattern, count, max_key});
    if (!scan.ok()) return scan.status();
    const redisReply* s = scan->get();
    if (s->type != REDIS_REPLY_ARRAY || s->elements != 3 ||
        s->element[0]->type != REDIS_REPLY_STRING || s->element[1]->type != REDIS_REPLY_ARRAY ||
        s->element[2]->type != REDIS_REPLY_ARRAY) {
      return absl::UnavailableError(absl::StrCat(
          "redis: unexpected SCAN reply",
          s->type == REDIS_REPLY_ERROR ? absl::StrCat(": ", ReplyString(s)) : ""));
    }
    cursor = std::string(ReplyString(s->element[0]));
    const redisReply* long_keys = s->element[2];
    for (size_t i = 0; i + 1 < long_keys->elements; i += 2) {
      const redisReply* name = long_keys->element[i];
      const redisReply* length = long_keys->element[i + 1];
      if (name->type != REDIS_REPLY_STRING || length->type != REDIS_REPLY_INTEGER) continue;
      CountBad(ReplyString(name), absl::StrCat("key name too long (", length->integer,
                                               " bytes, at most ", options_.max_key_bytes, ")"));
    }
    const redisReply* keys = s->element[1];
    std::vector<absl::string_view> names;
    names.reserve(keys->elements);
    for (size_t i = 0; i < keys->elements; ++i) {
      if (keys->element[i]->type == REDIS_REPLY_STRING) {
        names.push_back(ReplyString(keys->element[i]));
      }
    }
    absl::Status read = ReadValues(names, [&](size_t i, std::optional<absl::string_view> value) {
      if (value.has_value()) on_value(names[i], *value);
    });
    if (!read.ok()) return read;
  } while (cursor != "0");
  return absl::OkStatus();
}

absl::StatusOr<core::HealthMap> RedisStore::LoadHealth() {
  core::HealthMap health;
  const std::string health_prefix = HealthKey("");
  absl::Status status =
      ScanValues(health_prefix, [&](absl::string_view key, absl::string_view value) {
        std::optional<core::HealthRecord> record = DecodeHealth(key, value);
        if (record.has_value()) health[key.substr(health_prefix.size())] = *record;
      });
  if (!status.ok()) return status;
  return health;
}

absl::StatusOr<StoreState> RedisStore::LoadAll() {
  StoreState state;
  // The log position first: every tenant write after it shows in TenantChangesSince.
  absl::StatusOr<TenantLogPosition> position = ReadTenantLog(0, nullptr, nullptr);
  if (!position.ok()) return position.status();
  state.tenant_position = *std::move(position);
  absl::StatusOr<core::HealthMap> health = LoadHealth();
  if (!health.ok()) return health.status();
  state.health = *std::move(health);
  const std::string tenant_prefix = TenantKey("");
  absl::Status status =
      ScanValues(tenant_prefix, [&](absl::string_view key, absl::string_view value) {
        absl::string_view tenant_id = key.substr(tenant_prefix.size());
        std::optional<core::TenantPolicy> policy = DecodeTenant(key, value, tenant_id);
        if (policy.has_value()) state.tenants.push_back(*std::move(policy));
      });
  if (!status.ok()) return status;
  // SCAN may list a key twice (a rehash during the scan): one policy per id.
  std::sort(state.tenants.begin(), state.tenants.end(),
            [](const core::TenantPolicy& a, const core::TenantPolicy& b) {
              return a.tenant_id < b.tenant_id;
            });
  state.tenants.erase(std::unique(state.tenants.begin(), state.tenants.end(),
                                  [](const core::TenantPolicy& a, const core::TenantPolicy& b) {
                                    return a.tenant_id == b.tenant_id;
                                  }),
                      state.tenants.end());
  return state;
}

}  // namespace dcdir::store
