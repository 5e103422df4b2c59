// OpTable: finished operations stay done until collected, failures keep their
// Status, detached operations are forgotten, and operations that finish long
// after later ones were collected are still reported.
#include <gtest/gtest.h>

#include <vector>

#include "protocol/op_table.hpp"

namespace inca::protocol {
namespace {

TEST(OpTable, AFinishedOperationIsDoneUntilReleased) {
  OpTable ops;
  const OpId a = ops.next();
  const OpId b = ops.next();
  EXPECT_TRUE(ops.issued(a));
  EXPECT_FALSE(ops.issued(b + 1));
  EXPECT_FALSE(ops.done(a));
  ops.finish(b, {});
  EXPECT_FALSE(ops.done(a));
  EXPECT_TRUE(ops.done(b));
  EXPECT_TRUE(ops.status(b).ok());
  ops.release(b);
  EXPECT_FALSE(ops.done(b));
}

TEST(OpTable, AFailureKeepsItsStatusUntilReleased) {
  OpTable ops;
  const OpId a = ops.next();
  const OpId b = ops.next();
  ops.finish(a, make_error(StatusCode::timeout, "late"));
  ops.finish(b, {});
  EXPECT_EQ(ops.status(a).code(), StatusCode::timeout);
  EXPECT_EQ(ops.status(a).message(), "late");
  EXPECT_TRUE(ops.status(b).ok());
  ops.release(a);
  EXPECT_FALSE(ops.done(a));
  EXPECT_TRUE(ops.status(a).ok());
  EXPECT_TRUE(ops.done(b));
}

TEST(OpTable, ADetachedOperationIsForgottenWhetherItFinishedOrNot) {
  OpTable ops;
  const OpId pending = ops.next();
  const OpId finished = ops.next();
  ops.finish(finished, make_error(StatusCode::io_error, "x"));
  ops.detach(finished);
  ops.detach(pending);
  EXPECT_FALSE(ops.done(finished));
  EXPECT_TRUE(ops.status(finished).ok());
  ops.finish(pending, make_error(StatusCode::timeout, "y"));
  EXPECT_FALSE(ops.done(pending));
  EXPECT_TRUE(ops.status(pending).ok());
}

TEST(OpTable, AnOperationPendingPastThousandsOfCollectedOnesIsStillReported) {
  OpTable ops;
  const OpId old_ok = ops.next();
  const OpId old_failed = ops.next();
  std::vector<OpId> later;
  for (int i = 0; i < 5000; ++i) later.push_back(ops.next());
  for (OpId id : later) {
    ops.finish(id, {});
    EXPECT_TRUE(ops.done(id));
    ops.release(id);
  }
  for (OpId id : later) EXPECT_FALSE(ops.done(id));
  EXPECT_FALSE(ops.done(old_ok));
  ops.finish(old_ok, {});
  ops.finish(old_failed, make_error(StatusCode::timeout, "z"));
  EXPECT_TRUE(ops.done(old_ok));
  EXPECT_TRUE(ops.status(old_ok).ok());
  EXPECT_TRUE(ops.done(old_failed));
  EXPECT_EQ(ops.status(old_failed).code(), StatusCode::timeout);
  ops.release(old_failed);
  EXPECT_FALSE(ops.done(old_failed));
  EXPECT_TRUE(ops.done(old_ok));
  const OpId fresh = ops.next();
  ops.finish(fresh, {});
  EXPECT_TRUE(ops.done(fresh));
}

TEST(OpTable, AFinishTwiceKeepsTheLastOutcome) {
  OpTable ops;
  const OpId a = ops.next();
  ops.finish(a, make_error(StatusCode::timeout, "first"));
  ops.finish(a, {});
  EXPECT_TRUE(ops.status(a).ok());
  ops.finish(a, make_error(StatusCode::mismatch, "second"));
  EXPECT_EQ(ops.status(a).code(), StatusCode::mismatch);
}

TEST(OpTable, CollectingTheOldestOperationsKeepsTheNewerOnesDone) {
  // Thousands of finished operations, collected oldest first while newer
  // ones (and a failure among them) wait: the table lets go of the collected
  // ones' room as it goes, and must not lose or shift the others.
  OpTable ops;
  std::vector<OpId> ids;
  for (int i = 0; i < 10000; ++i) ids.push_back(ops.next());
  for (OpId id : ids) ops.finish(id, {});
  const OpId failed = ids[9500];
  ops.finish(failed, make_error(StatusCode::timeout, "kept"));
  for (int i = 0; i < 9000; ++i) {
    ASSERT_TRUE(ops.done(ids[i])) << i;
    ops.release(ids[i]);
    ASSERT_FALSE(ops.done(ids[i])) << i;
    ASSERT_TRUE(ops.done(ids[i + 1000])) << i + 1000;
  }
  for (int i = 9000; i < 10000; ++i) EXPECT_TRUE(ops.done(ids[i])) << i;
  EXPECT_EQ(ops.status(failed).code(), StatusCode::timeout);
  EXPECT_TRUE(ops.status(ids[9501]).ok());
  const OpId fresh = ops.next();
  EXPECT_FALSE(ops.done(fresh));
  ops.finish(fresh, {});
  EXPECT_TRUE(ops.done(fresh));
}

}  // namespace
}  // namespace inca::protocol
