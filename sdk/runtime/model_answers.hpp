// A World's cost-model answers, shared by its ranks. Every rank of a World
// asks the same questions (which all-reduce for 1 MiB of f32?) of the same
// model, and an exchange model walks every rank's messages: O(p log p) per
// question, so p ranks asking each would cost O(p^2 log p) per collective
// (minutes at 4,608 ranks). A World registers its model for its lifetime;
// questions about an unregistered model are answered directly.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "inca/cost_model.hpp"
#include "inca/time.hpp"

namespace inca::runtime {

/// Answers about `model` are kept until unregister_model (thread-safe).
void register_model(const ModelFabric* model);
/// Forgets `model` and its answers (before the model is destroyed).
void unregister_model(const ModelFabric* model);

/// `compute()`, the model's time of `algorithm` for `collective` (a small
/// integer naming it) on `bytes` of `elem_size`, once per registered model.
std::optional<Time> model_answer(const ModelFabric* model, int collective,
                                 const std::string& algorithm, std::size_t bytes,
                                 std::size_t elem_size,
                                 const std::function<std::optional<Time>()>& compute);

}  // namespace inca::runtime
