// A World's cost-model answers are computed once and shared by its ranks;
// an unregistered model is asked every time, and a forgotten one too.
#include "runtime/model_answers.hpp"

#include <gtest/gtest.h>

namespace inca::runtime {
namespace {

TEST(ModelAnswers, ARegisteredModelAnswersEachQuestionOnce) {
  ModelFabric registered, other;
  int computed = 0;
  auto ask = [&](const ModelFabric* model, std::size_t bytes) {
    return model_answer(model, 0, "ring", bytes, 4, [&]() -> std::optional<Time> {
      ++computed;
      return static_cast<Time>(bytes * 2);
    });
  };
  register_model(&registered);
  EXPECT_EQ(ask(&registered, 100), Time{200});
  EXPECT_EQ(ask(&registered, 100), Time{200});
  EXPECT_EQ(computed, 1);
  EXPECT_EQ(ask(&registered, 300), Time{600});  // another question
  EXPECT_EQ(computed, 2);
  EXPECT_EQ(ask(&other, 100), Time{200});  // not registered: asked each time
  EXPECT_EQ(ask(&other, 100), Time{200});
  EXPECT_EQ(computed, 4);
  unregister_model(&registered);
  EXPECT_EQ(ask(&registered, 100), Time{200});
  EXPECT_EQ(computed, 5);
  // Registered again (a new World at the same address): nothing carried over.
  register_model(&registered);
  EXPECT_EQ(ask(&registered, 100), Time{200});
  EXPECT_EQ(computed, 6);
  unregister_model(&registered);
}

}  // namespace
}  // namespace inca::runtime
