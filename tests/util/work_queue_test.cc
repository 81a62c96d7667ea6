#include "service/util/work_queue.h"

#include <mutex>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace dcdir::util {
namespace {

TEST(WorkQueueTest, RunsTasksOnAWorkerThreadInSubmissionOrder) {
  WorkQueue queue(/*threads=*/1, /*max_backlog=*/16);
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> ran_on;
  absl::Notification done;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(queue.TrySubmit([&, i] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
      ran_on.push_back(std::this_thread::get_id());
      if (i == 4) done.Notify();
    }));
  }
  done.WaitForNotification();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  for (const std::thread::id& id : ran_on) EXPECT_NE(id, std::this_thread::get_id());
}

TEST(WorkQueueTest, RefusesAndDropsATaskWhenTheBacklogIsFull) {
  WorkQueue queue(/*threads=*/1, /*max_backlog=*/2);
  absl::Notification started, release;
  ASSERT_TRUE(queue.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();  // holds the only thread
  }));
  started.WaitForNotification();  // the first task left the backlog
  int ran = 0;                     // written by the worker only after `release`
  EXPECT_TRUE(queue.TrySubmit([&] { ++ran; }));
  EXPECT_TRUE(queue.TrySubmit([&] { ++ran; }));
  EXPECT_EQ(queue.backlog(), 2u);
  EXPECT_FALSE(queue.TrySubmit([&] { ran += 100; }));  // a third waiting task is refused
  release.Notify();
  queue.Stop();
  EXPECT_EQ(ran, 2) << "the refused task never runs";
}

TEST(WorkQueueTest, StopRunsEveryQueuedTaskThenRefusesNewOnes) {
  WorkQueue queue(/*threads=*/2, /*max_backlog=*/100);
  absl::Notification release;
  std::mutex mu;
  int ran = 0;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(queue.TrySubmit([&] { release.WaitForNotification(); }));
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(queue.TrySubmit([&] {
      std::lock_guard<std::mutex> lock(mu);
      ++ran;
    }));
  }
  std::thread stopper([&] { queue.Stop(); });
  release.Notify();
  stopper.join();
  EXPECT_EQ(ran, 50);
  EXPECT_FALSE(queue.TrySubmit([] {}));
  EXPECT_EQ(queue.backlog(), 0u);
}

}  // namespace
}  // namespace dcdir::util
