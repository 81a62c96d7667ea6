#ifndef DCDIR_SERVICE_STORE_REDIS_STORE_H_
#define DCDIR_SERVICE_STORE_REDIS_STORE_H_

// The shared store: Redis (direct or through Sentinel), via hiredis. Key layout: docs/REDIS.md.
//
// Threads: callers share one command connection (guarded by a mutex; every command has a
// timeout); a monitor thread probes it every `probe_interval` (TIME, plus ROLE behind Sentinel)
// and reconnects with jittered exponential backoff; a subscriber thread (started by
// SetChangeListener) holds a second connection SUBSCRIBEd to the change channel; behind
// Sentinel, one watcher thread per sentinel asks it every `probe_interval` which node is the
// master. Available() is a verdict with hysteresis (Options::down_after / up_after); while it
// is false, or while the command connection is down, every call fails at once with UNAVAILABLE.
//
// Process-wide effect: Create() ignores SIGPIPE when its disposition is still the default
// (hiredis writes with write(2); a peer that died must not kill the process).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/core/up_down_verdict.h"
#include "service/store/record_codec.h"
#include "service/store/redis_url.h"
#include "service/store/store.h"

struct redisContext;
struct redisReply;

namespace dcdir::store {

class RedisStore final : public Store {
 public:
  struct Options {
    std::string url = "";       // see redis_url.h
    std::string password = "";  // no AUTH when empty (see LoadRedisPassword)
    std::string key_prefix = "dcdir:";
    absl::Duration op_timeout = absl::Milliseconds(200);       // per command round trip
    absl::Duration connect_timeout = absl::Milliseconds(200);  // per TCP connect
    absl::Duration probe_interval = absl::Milliseconds(250);   // idle liveness probe
    absl::Duration backoff_initial = absl::Milliseconds(50);   // first reconnect delay
    absl::Duration backoff_max = absl::Seconds(1);             // reconnect delay cap
    // Hysteresis of Available() (docs/REDIS.md, "Faults"): the store is declared unavailable
    // after `down_after` consecutive failed round trips (liveness probes, reconnect attempts,
    // commands that failed on I/O, a timeout or a node-state reply) and available again only
    // after `up_after` consecutive good ones (a successful reconnect counts as one), so a lossy
    // link does not flip it with every lost packet. Behind Sentinel, a probe is good only when
    // a majority of the URL's sentinels answered within the last probe_interval + op_timeout +
    // 100 ms and named the connected node as the master; no such majority declares the store
    // unavailable at once (the window already is the hysteresis), a majority naming another
    // node makes the store reconnect to it. Both >= 1.
    int down_after = 2;
    int up_after = 2;
    // Flap damping on top (core/up_down_verdict.h): each time the store goes down again within
    // `flap_window` of coming back, the good round trips needed to come back double, up to
    // `max_up_after` (32 probes: 8 s at the default probe interval); back to `up_after` once
    // it stayed available for `flap_window`.
    int max_up_after = 32;
    absl::Duration flap_window = absl::Seconds(30);
    // Tenant writes (PutTenant, DeleteTenant) are followed, in the same round trip, by
    // `WAIT wait_replicas wait_timeout`; fewer acknowledgements fail the call with UNAVAILABLE
    // and reason kWriteUnconfirmedReason (written to the master, may be lost on a failover).
    // 0: no WAIT.
    int wait_replicas = 0;
    absl::Duration wait_timeout = absl::Milliseconds(500);
    // Redis keeps a health record this long after its expires_at (PEXPIREAT), so that a
    // record that expired is still read as "expired" rather than "missing".
    absl::Duration expiry_grace = absl::Minutes(10);
    size_t scan_count = 500;                        // SCAN COUNT hint and read batch size
    // Larger values are bad records, and are never sent by Redis: every read first asks
    // STRLEN inside one script (docs/REDIS.md, "Bounded reads").
    size_t max_value_bytes = kMaxEncodedValueBytes;
    // Most value bytes in one reply (a batch stops early and goes on in the next round trip),
    // so no reply carries more than max_reply_bytes + max_value_bytes of values however many
    // large values are stored: one round trip stays well inside op_timeout.
    size_t max_reply_bytes = 1 << 20;
    // Key names longer than this found by a resync's SCAN are bad records (never sent whole).
    size_t max_key_bytes = 1024;
  };

  // Validates the options (INVALID_ARGUMENT) and starts the store. One connection attempt is
  // made before returning; when it succeeds the store starts available (no hysteresis at
  // start), else it starts unavailable and keeps reconnecting in the background (Available()
  // tells).
  static absl::StatusOr<std::unique_ptr<RedisStore>> Create(Options options);

  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;
  ~RedisStore() override;

  // Reads the tenant log position first, then every health record and tenant policy.
  absl::StatusOr<StoreState> LoadAll() override;
  absl::StatusOr<core::HealthMap> LoadHealth() override;
  // The tenant log (docs/REDIS.md): a version counter, an epoch and a sorted set of tenant ids
  // scored by the version of their last write, all updated by the write's own script.
  absl::StatusOr<std::optional<TenantChanges>> TenantChangesSince(
      const TenantLogPosition& since) override;
  absl::StatusOr<std::vector<TenantRead>> GetTenants(const std::vector<std::string>& ids) override;
  absl::StatusOr<std::optional<core::HealthRecord>> GetHealth(std::string_view dc_id) override;
  absl::Status PutHealth(std::string_view dc_id, const core::HealthRecord& record) override;
  absl::StatusOr<std::optional<core::TenantPolicy>> GetTenant(std::string_view tenant_id) override;
  absl::Status PutTenant(const core::TenantPolicy& policy) override;
  absl::StatusOr<bool> DeleteTenant(std::string_view tenant_id) override;
  // Also starts the subscriber; it delivers kResync each time it (re)subscribes.
  void SetChangeListener(std::function<void(const Change&)> listener) override;
  bool Available() const override { return available_.load(std::memory_order_acquire); }
  // Redis' TIME as of the last sample (every connect and every liveness probe), advanced by the
  // local steady clock since; nullopt before the first successful connect.
  std::optional<absl::Time> SharedTime() const override;
  uint64_t BadRecords() const override { return bad_records_.load(std::memory_order_relaxed); }

  // True while the subscriber connection is subscribed to the change channel.
  bool Subscribed() const { return subscribed_.load(std::memory_order_acquire); }

  // The Redis names used (docs/REDIS.md).
  std::string HealthKey(std::string_view dc_id) const;
  std::string TenantKey(std::string_view tenant_id) const;
  std::string ChangesChannel() const;

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  struct ReplyDeleter {
    void operator()(redisReply* r) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;
  using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;
  using Args = std::vector<absl::string_view>;

  RedisStore(Options options, RedisUrl url);

  // Connects to `target`, applies the timeouts, AUTH and SELECT.
  absl::StatusOr<ContextPtr> ConnectTo(const HostPort& target) const;
  // ConnectTo, then PING (direct) or ROLE must say "master" (Sentinel).
  absl::StatusOr<ContextPtr> ConnectAndCheck(const HostPort& target) const;
  // Finds the master (through Sentinel when configured) and connects to it.
  absl::StatusOr<std::pair<ContextPtr, HostPort>> ConnectToMaster() const;
  // SENTINEL get-master-addr-by-name on one sentinel.
  absl::StatusOr<HostPort> AskSentinel(const HostPort& sentinel) const;
  // One command on a private connection; error replies become UNAVAILABLE.
  static absl::StatusOr<ReplyPtr> RawCommand(redisContext* ctx, const Args& args);
  // The master address in a `SENTINEL get-master-addr-by-name` reply; nullopt when the
  // sentinel does not know the master.
  static std::optional<HostPort> ParseMasterAddress(const redisReply* reply);
  // TIME on `ctx`: records Redis' time against the steady clock at the round trip's midpoint.
  absl::Status SampleTime(redisContext* ctx) const;

  // Pipelines `commands` on the shared connection: one round trip, each reply awaited for
  // op_timeout + `extra_timeout`. I/O errors and replies saying the node cannot serve
  // (READONLY, LOADING, ...) drop the connection: UNAVAILABLE. `sent`, when given, is set to
  // true once the commands were handed to a live connection (the outcome of a write that then
  // fails is unknown).
  absl::StatusOr<std::vector<ReplyPtr>> Pipeline(const std::vector<Args>& commands,
                                                 absl::Duration extra_timeout = absl::ZeroDuration(),
                                                 bool* sent = nullptr);
  absl::StatusOr<ReplyPtr> Command(const Args& args);
  // A tenant write (EVAL `args`) followed by WAIT when options_.wait_replicas > 0; the reply of
  // the EVAL. Errors say whether the write may have been applied (docs/REDIS.md).
  absl::StatusOr<ReplyPtr> ReplicatedWrite(const Args& args);
  // Closes the command connection; `failure` counts it towards the down_after verdict.
  void DropLocked(absl::string_view reason, bool failure = true)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The verdict of available_ (Options::down_after / up_after / flap damping).
  void RecordFailureLocked(absl::string_view reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecordSuccessLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkDownLocked(absl::string_view reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The liveness probe on the command connection: ROLE (Sentinel) and TIME. OK or why not.
  absl::Status ProbeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Behind Sentinel: what the sentinels' recent answers say about the connected master.
  enum class SentinelVerdict { kConfirmed, kMoved, kNoMajority };
  SentinelVerdict CheckSentinelsLocked(std::string* detail) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SentinelWatchLoop(size_t index);

  void MonitorLoop();
  void SubscriberLoop();
  // Waits up to `d` (returns early on Stop); true when stopping.
  bool SleepUnlessStopped(absl::Duration d);
  absl::Duration NextBackoff(absl::Duration* backoff);

  void Notify(const Change& change);
  // Counts a bad stored value and logs it (once per key, for the first kMaxLoggedBadKeys).
  void CountBad(absl::string_view key, absl::string_view reason);
  // Reads string values with bounded replies (kReadScript): calls on_value(i, value) for each
  // keys[i], in order: the value, or nullopt for a missing key or a bad one (empty, too large,
  // another type: counted and logged). Batches of scan_count keys, each reply bounded by
  // max_reply_bytes.
  absl::Status ReadValues(
      const std::vector<absl::string_view>& keys,
      const std::function<void(size_t, std::optional<absl::string_view>)>& on_value);
  // The decoded value, or nullopt for a bad one (counted and logged with CountBad).
  std::optional<core::HealthRecord> DecodeHealth(absl::string_view key, absl::string_view value);
  // Same; a tenant value is also bad when its id differs from `tenant_id` (the key's) or breaks
  // core::IsValidTenantId (store.h, "Tenant ids"). Every tenant read goes through here.
  std::optional<core::TenantPolicy> DecodeTenant(absl::string_view key, absl::string_view value,
                                                 absl::string_view tenant_id);
  // SCANs `prefix*` (key names longer than max_key_bytes are counted as bad, never read) and
  // calls on_value(key, value) for every good-sized string value (ReadValues).
  absl::Status ScanValues(const std::string& prefix,
                          const std::function<void(absl::string_view, absl::string_view)>& on_value);
  // The tenant log's position and, when `ids` is given, appends the ids logged after version
  // `after` (at most kTenantLogBatch; *truncated tells, and the position is then the last
  // listed id's version).
  absl::StatusOr<TenantLogPosition> ReadTenantLog(uint64_t after, std::vector<std::string>* ids,
                                                  bool* truncated);
  // A random epoch id, used only when the store has none yet.
  static std::string NewEpoch();

  const Options options_;
  const RedisUrl url_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // signalled on stop, drop and connect
  ContextPtr cmd_ ABSL_GUARDED_BY(mu_);
  HostPort master_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> generation_{0};  // +1 on every (re)connect of cmd_
  std::atomic<bool> available_{false};  // the verdict; written under mu_
  core::UpDownVerdict verdict_ ABSL_GUARDED_BY(mu_);  // hysteresis and flap damping
  std::atomic<bool> subscribed_{false};
  std::atomic<uint64_t> bad_records_{0};

  // The last TIME sample: Redis' time and the local steady time it corresponds to.
  struct TimeSample {
    absl::Time redis_time;
    std::chrono::steady_clock::time_point local;
  };
  mutable std::mutex time_mu_;
  mutable std::optional<TimeSample> time_sample_ ABSL_GUARDED_BY(time_mu_);

  std::mutex listener_mu_;
  std::function<void(const Change&)> listener_ ABSL_GUARDED_BY(listener_mu_);
  bool subscriber_started_ ABSL_GUARDED_BY(listener_mu_) = false;

  std::mutex bad_mu_;
  absl::flat_hash_set<std::string> logged_bad_keys_ ABSL_GUARDED_BY(bad_mu_);

  // The last answer of each sentinel (Sentinel mode; index as in url_.hosts).
  struct SentinelView {
    bool answered = false;
    std::optional<HostPort> master;  // nullopt: the sentinel does not know the master
    std::chrono::steady_clock::time_point at;
  };
  mutable std::mutex sentinel_mu_;
  std::vector<SentinelView> sentinel_views_ ABSL_GUARDED_BY(sentinel_mu_);

  std::thread monitor_;
  std::thread subscriber_;
  std::vector<std::thread> sentinel_watchers_;
};

}  // namespace dcdir::store

#endif  // DCDIR_SERVICE_STORE_REDIS_STORE_H_
