// A World's cost-model answers, shared by its ranks. Every rank of a World
// asks the same questions (which all-reduce for 1 MiB of f32?) of the same
// model, and an exchange model walks every rank's messages: O(p log p) per
// question, so p ranks asking each would cost O(p^2 log p) per collective
// (minutes at 4,608 ranks). The World owns one and hands it to each rank's
// Communicator beside the model; a communicator without one asks the model.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "inca/time.hpp"

namespace inca::runtime {

/// The answers of one model, each computed once (thread-safe: a live
/// World's ranks ask from their own threads).
class ModelAnswers {
 public:
  /// `compute()`, the model's time of `algorithm` for `collective` (a small
  /// integer naming it) on `bytes` of `elem_size`, computed on the first ask.
  std::optional<Time> answer(int collective, const std::string& algorithm, std::size_t bytes,
                             std::size_t elem_size,
                             const std::function<std::optional<Time>()>& compute);

 private:
  using Question = std::tuple<int, std::string, std::size_t, std::size_t>;
  std::mutex mutex_;
  std::map<Question, std::optional<Time>> answers_;
};

}  // namespace inca::runtime
