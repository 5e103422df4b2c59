// A World's cost-model answers are computed once per question and shared by
// its ranks; another World (another ModelAnswers) computes its own.
#include "runtime/model_answers.hpp"

#include <gtest/gtest.h>

namespace inca::runtime {
namespace {

TEST(ModelAnswers, EachQuestionIsComputedOnce) {
  ModelAnswers answers, other;
  int computed = 0;
  auto ask = [&](ModelAnswers& a, int collective, const char* algorithm, std::size_t bytes,
                 std::size_t elem_size) {
    return a.answer(collective, algorithm, bytes, elem_size, [&]() -> std::optional<Time> {
      ++computed;
      return static_cast<Time>(bytes * elem_size);
    });
  };
  EXPECT_EQ(ask(answers, 0, "ring", 100, 4), Time{400});
  EXPECT_EQ(ask(answers, 0, "ring", 100, 4), Time{400});
  EXPECT_EQ(computed, 1);
  // Each part of the question makes another question.
  EXPECT_EQ(ask(answers, 1, "ring", 100, 4), Time{400});
  EXPECT_EQ(ask(answers, 0, "innet", 100, 4), Time{400});
  EXPECT_EQ(ask(answers, 0, "ring", 300, 4), Time{1200});
  EXPECT_EQ(ask(answers, 0, "ring", 100, 8), Time{800});
  EXPECT_EQ(computed, 5);
  // Another World's answers are its own.
  EXPECT_EQ(ask(other, 0, "ring", 100, 4), Time{400});
  EXPECT_EQ(computed, 6);
}

TEST(ModelAnswers, AnUnanswerableQuestionIsAskedOnceToo) {
  ModelAnswers answers;
  int computed = 0;
  auto none = [&]() -> std::optional<Time> {
    ++computed;
    return std::nullopt;
  };
  EXPECT_FALSE(answers.answer(0, "bruck", 64, 4, none).has_value());
  EXPECT_FALSE(answers.answer(0, "bruck", 64, 4, none).has_value());
  EXPECT_EQ(computed, 1);
}

}  // namespace
}  // namespace inca::runtime
