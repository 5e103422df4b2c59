#include "session.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "errors.hpp"
#include "py_communicator.hpp"

namespace inca::python {

Session::Session(std::shared_ptr<Baton> baton)
    : baton_(std::move(baton)), owner_(std::this_thread::get_id()) {}

std::shared_ptr<Session> Session::direct() {
  return std::shared_ptr<Session>(new Session(nullptr));
}

std::shared_ptr<Session> Session::over(std::shared_ptr<Baton> baton) {
  return std::shared_ptr<Session>(new Session(std::move(baton)));
}

bool Session::usable() const {
  return open_ && std::this_thread::get_id() == owner_;
}

void Session::check_usable(const char* what) const {
  if (!open_)
    throw_invalid(fmt::format(
        "{}: this communicator belongs to a rank program (or algorithm call) that has ended",
        what));
  if (std::this_thread::get_id() != owner_)
    throw_invalid(fmt::format(
        "{}: a communicator is used only by the rank program it was given to, on its thread "
        "(not from threads it starts)",
        what));
}

void Session::native(const std::function<void()>& call) {
  py::gil_scoped_release release;
  if (baton_)
    baton_->call_native(call);
  else
    call();
}

void Session::add(PyCommunicator* comm) {
  comms_.push_back(comm);
}

void Session::remove(PyCommunicator* comm) {
  comms_.erase(std::remove(comms_.begin(), comms_.end(), comm), comms_.end());
}

void Session::close() {
  if (!open_) return;
  // Sub-communicators were made after their parents: finish them first.
  const std::vector<PyCommunicator*> comms(comms_.rbegin(), comms_.rend());
  native([&] {
    for (PyCommunicator* c : comms) c->finish_native();
  });
  open_ = false;
  // Dropping buffers may run any Python (a __del__), which may drop a
  // communicator and so change comms_.
  while (!comms_.empty()) {
    PyCommunicator* c = comms_.back();
    comms_.pop_back();
    c->finish_python();
  }
}

}  // namespace inca::python
