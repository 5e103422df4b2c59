#include "py_communicator.hpp"

#include <fmt/format.h>

#include "errors.hpp"

namespace inca::python {

PyCommunicator::PyCommunicator(std::shared_ptr<Session> session, Communicator* comm,
                               std::unique_ptr<Communicator> owned, CallDefaults defaults)
    : session_(std::move(session)),
      comm_(owned ? owned.get() : comm),
      owned_(std::move(owned)),
      defaults_(std::move(defaults)) {
  session_->add(this);
}

PyCommunicator::~PyCommunicator() {
  session_->remove(this);
  if (!comm_ || (!owned_ && pending_.empty())) return;
  if (session_->usable()) {
    session_->native([this] { finish_native(); });
    return;
  }
  // Dropped on another thread while its rank program runs: an heir on the
  // session finishes it when the rank program ends.
  auto* heir = new PyCommunicator(session_, comm_, std::move(owned_), defaults_);
  heir->pending_ = std::move(pending_);
  heir->orphan_ = true;
}

Communicator& PyCommunicator::comm(const char* what) {
  session_->check_usable(what);
  return *comm_;
}

const Communicator& PyCommunicator::peek(const char* what) const {
  if (!comm_)
    throw_invalid(fmt::format(
        "{}: this communicator belongs to a rank program (or algorithm call) that has ended",
        what));
  return *comm_;
}

void PyCommunicator::run(const char* what, const std::function<Status(Communicator&)>& call) {
  Communicator& c = comm(what);
  Status status;
  session_->native([&] { status = call(c); });
  check(status);
}

py::object PyCommunicator::start(py::object self, const char* what,
                                 const std::function<Result<Request>(Communicator&)>& call,
                                 Operands operands) {
  Communicator& c = comm(what);
  std::optional<Result<Request>> started;
  session_->native([&] { started.emplace(call(c)); });
  check(started->status());
  const Request request = started->value();
  pending_[request.id] = std::move(operands.pins);
  return py::cast(PyRequest(std::move(self), request, std::move(operands.result)));
}

Status PyCommunicator::complete(Request request) {
  Communicator& c = comm("Request.wait");
  Status status;
  session_->native([&] { status = c.wait(request); });
  pending_.erase(request.id);
  return status;
}

bool PyCommunicator::poll(Request request) {
  Communicator& c = comm("Request.test");
  bool done = false;
  session_->native([&] { done = c.test(request); });
  return done;
}

void PyCommunicator::finish_native() {
  if (!comm_) return;
  for (auto& [id, pins] : pending_) (void)comm_->wait(Request{id});
  owned_.reset();
}

void PyCommunicator::finish_python() {
  pending_.clear();
  comm_ = nullptr;
  if (orphan_) delete this;
}

PyCommunicator& PyRequest::communicator() {
  return comm_.cast<PyCommunicator&>();
}

py::object PyRequest::wait() {
  if (!done_) {
    status_ = communicator().complete(request_);
    done_ = true;
  }
  check(status_);
  return result_;
}

bool PyRequest::test() {
  if (done_) return true;
  if (!communicator().poll(request_)) return false;
  status_ = communicator().complete(request_);
  done_ = true;
  return true;
}

}  // namespace inca::python
