#include "trace/chrome_trace_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace inca::trace {
namespace {

// Open files by absolute path, so that worlds naming one path share it.
std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<ChromeTraceFile>>& registry() {
  static std::map<std::string, std::weak_ptr<ChromeTraceFile>> files;
  return files;
}

std::string_view process_name(Track track) {
  switch (track) {
    case Track::ranks:
      return "ranks";
    case Track::switches:
      return "switches";
    case Track::host_links:
      return "host links";
    case Track::switch_links:
      return "switch links";
  }
  return "?";
}

// A JSON string literal (quoted, escaped) for a name.
std::string quoted(std::string_view text) {
  return nlohmann::json(std::string(text)).dump();
}

std::string args_json(const Args& args) {
  nlohmann::json j = nlohmann::json::object();
  for (const Arg& a : args) std::visit([&](const auto& v) { j[a.key] = v; }, a.value);
  return j.dump();
}

// Room kept for the closing instant and brackets once the limit is reached.
constexpr std::uint64_t kReserveBytes = 512;

}  // namespace

std::string trace_timestamp(Time t) {
  const Time ns = t < 0 ? 0 : t / kPicosPerNano;
  return fmt::format("{}.{:03}", ns / 1000, ns % 1000);
}

Result<std::shared_ptr<ChromeTraceFile>> ChromeTraceFile::open(const std::string& path,
                                                               std::uint64_t max_bytes,
                                                               std::string_view clock) {
  if (path.empty()) return make_error(StatusCode::invalid_argument, "trace: no file name");
  std::error_code ec;
  const std::string key = std::filesystem::absolute(path, ec).lexically_normal().string();
  std::lock_guard lock(registry_mutex);
  if (auto it = registry().find(key); it != registry().end())
    if (auto open = it->second.lock()) return open;
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (!file)
    return make_error(StatusCode::io_error,
                      fmt::format("trace: cannot write '{}': {}", path, std::strerror(errno)));
  std::shared_ptr<ChromeTraceFile> trace(new ChromeTraceFile(path, file, max_bytes));
  // otherData first: Perfetto reads it only while it fits the first chunk.
  const std::string head = fmt::format(
      "{{\"otherData\":{{\"generator\":\"inca\",\"clock\":{}}},\"traceEvents\":[\n", quoted(clock));
  std::fputs(head.c_str(), file);
  trace->bytes_ = head.size();
  registry()[key] = trace;
  return trace;
}

ChromeTraceFile::ChromeTraceFile(std::string path, std::FILE* file, std::uint64_t max_bytes)
    : path_(std::move(path)), file_(file), max_bytes_(max_bytes) {}

ChromeTraceFile::~ChromeTraceFile() {
  std::fputs("\n]}\n", file_);
  const bool failed = std::ferror(file_) != 0;
  if (std::fclose(file_) != 0 || failed)
    spdlog::error("trace: writing '{}' failed; the file is incomplete", path_);
}

void ChromeTraceFile::write(std::string_view event, Time last) {
  if (truncated_) return;
  if (bytes_ + event.size() + kReserveBytes > max_bytes_) {
    truncated_ = true;
    const std::string stop = fmt::format(
        "{{\"ph\":\"i\",\"ts\":{},\"s\":\"g\",\"name\":\"trace truncated\",\"args\":{{\"reason\":"
        "\"the trace reached its size limit of {} bytes; later events are left out\"}}}}",
        trace_timestamp(end_), max_bytes_);
    event = stop;
    std::fputs(events_ ? ",\n" : "", file_);
    std::fwrite(event.data(), 1, event.size(), file_);
    bytes_ += event.size() + 2;
    return;
  }
  std::fputs(events_ ? ",\n" : "", file_);
  std::fwrite(event.data(), 1, event.size(), file_);
  bytes_ += event.size() + 2;
  ++events_;
  end_ = std::max(end_, last);
}

void ChromeTraceFile::name_process(Track track) {
  const auto pid = static_cast<std::uint32_t>(track);
  if (!named_processes_.insert(pid).second) return;
  write(
      fmt::format("{{\"ph\":\"M\",\"pid\":{},\"name\":\"process_name\",\"args\":{{\"name\":{}}}}}",
                  pid, quoted(process_name(track))),
      0);
  write(fmt::format("{{\"ph\":\"M\",\"pid\":{},\"name\":\"process_sort_index\",\"args\":{{\"sort_"
                    "index\":{}}}}}",
                    pid, pid),
        0);
}

void ChromeTraceFile::name_thread(Track track, std::uint32_t tid, std::string_view name) {
  std::lock_guard lock(mutex_);
  name_process(track);
  const auto pid = static_cast<std::uint32_t>(track);
  if (!named_threads_.insert({pid, tid}).second) return;
  write(fmt::format("{{\"ph\":\"M\",\"pid\":{},\"tid\":{},\"name\":\"thread_name\",\"args\":{{"
                    "\"name\":{}}}}}",
                    pid, tid, quoted(name)),
        0);
  write(
      fmt::format("{{\"ph\":\"M\",\"pid\":{},\"tid\":{},\"name\":\"thread_sort_index\",\"args\":{{"
                  "\"sort_index\":{}}}}}",
                  pid, tid, tid),
      0);
}

void ChromeTraceFile::slice(Track track, std::uint32_t tid, std::string_view category,
                            std::string_view name, Time begin, Time end, const Args& args) {
  // Whole nanoseconds at both ends, so that nested slices stay nested.
  const Time b = begin / kPicosPerNano * kPicosPerNano;
  const Time e = std::max(b, end / kPicosPerNano * kPicosPerNano);
  const std::string event = fmt::format(
      "{{\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":{},\"tid\":{},\"cat\":{},\"name\":{},\"args\":{}"
      "}}",
      trace_timestamp(b), trace_timestamp(e - b), static_cast<std::uint32_t>(track), tid,
      quoted(category), quoted(name), args_json(args));
  std::lock_guard lock(mutex_);
  write(event, e);
}

void ChromeTraceFile::instant(Track track, std::uint32_t tid, std::string_view name, Time at,
                              const Args& args) {
  const std::string event = fmt::format(
      "{{\"ph\":\"i\",\"ts\":{},\"s\":\"t\",\"pid\":{},\"tid\":{},\"name\":{},\"args\":{}}}",
      trace_timestamp(at), static_cast<std::uint32_t>(track), tid, quoted(name), args_json(args));
  std::lock_guard lock(mutex_);
  write(event, at);
}

void ChromeTraceFile::global_instant(std::string_view name, Time at, const Args& args) {
  const std::string event =
      fmt::format("{{\"ph\":\"i\",\"ts\":{},\"s\":\"g\",\"name\":{},\"args\":{}}}",
                  trace_timestamp(at), quoted(name), args_json(args));
  std::lock_guard lock(mutex_);
  write(event, at);
}

void ChromeTraceFile::counter(Track track, std::string_view name, Time at,
                              const CounterValues& values) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, value] : values) j[std::string(key)] = value;
  const std::string event =
      fmt::format("{{\"ph\":\"C\",\"ts\":{},\"pid\":{},\"name\":{},\"args\":{}}}",
                  trace_timestamp(at), static_cast<std::uint32_t>(track), quoted(name), j.dump());
  std::lock_guard lock(mutex_);
  name_process(track);
  write(event, at);
}

Time ChromeTraceFile::end() const {
  std::lock_guard lock(mutex_);
  return end_;
}

std::uint64_t ChromeTraceFile::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

bool ChromeTraceFile::truncated() const {
  std::lock_guard lock(mutex_);
  return truncated_;
}

}  // namespace inca::trace
