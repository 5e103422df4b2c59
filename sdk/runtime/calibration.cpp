// calibrate(): Levenberg-Marquardt on the relative residuals between the cost
// model and measured times, over up to three parameters applied to every
// element of a fabric description.
#include "inca/calibration.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "inca/cost_model.hpp"

namespace inca {
namespace {

enum Parameter { kSend, kRecv, kLatency, kRate, kParameters };
using Values = std::array<double, kParameters>;

struct Fit {
  const FabricDescription& base;
  const FabricOptions& options;
  const std::vector<Measurement>& measured;
  std::vector<Parameter> free;  // the parameters being fitted, in θ order

  // The description with parameters θ (overheads and latency in ns, a rate factor).
  FabricDescription apply(const Values& value) const {
    FabricDescription f = base;
    for (HostDescription& h : f.hosts) {
      h.timing.send_overhead = static_cast<Time>(std::llround(value[kSend] * kPicosPerNano));
      h.timing.recv_overhead = static_cast<Time>(std::llround(value[kRecv] * kPicosPerNano));
      for (HostPortDescription& p : h.ports) p.gbps *= value[kRate];
    }
    for (LinkDescription& l : f.links) {
      l.latency = static_cast<Time>(std::llround(value[kLatency] * kPicosPerNano));
      l.gbps *= value[kRate];
      l.reverse_gbps *= value[kRate];
    }
    return f;
  }

  // Model times of every measurement on the fabric with θ.
  Result<std::vector<double>> model(const Values& value) const {
    FabricOptions o = options;
    o.overrides = {};
    auto world = World::create(apply(value), o);
    if (!world.ok()) return world.status();
    const ModelFabric f = (*world)->model_fabric();
    std::vector<double> out;
    for (const Measurement& m : measured) {
      auto t = model_allreduce(m.algorithm, f, m.bytes, 4);
      if (!t)
        return make_error(
            StatusCode::invalid_argument,
            fmt::format("line {}: algorithm '{}' has no cost model", m.line, m.algorithm));
      out.push_back(to_micros(*t));
    }
    return out;
  }

  Result<double> cost(const Values& value, std::vector<double>* residuals) const {
    auto times = model(value);
    if (!times.ok()) return times.status();
    double sum = 0;
    if (residuals) residuals->clear();
    for (std::size_t i = 0; i < measured.size(); ++i) {
      const double r = ((*times)[i] - measured[i].time_us) / measured[i].time_us;
      sum += r * r;
      if (residuals) residuals->push_back(r);
    }
    return sum;
  }
};

// Solves the n x n system a x = b (n <= 3) by Gaussian elimination with
// partial pivoting; false when singular.
bool solve(std::vector<std::vector<double>> a, std::vector<double> b, std::vector<double>& x) {
  const std::size_t n = b.size();
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    if (std::abs(a[pivot][c]) < 1e-300) return false;
    std::swap(a[c], a[pivot]);
    std::swap(b[c], b[pivot]);
    for (std::size_t r = c + 1; r < n; ++r) {
      const double k = a[r][c] / a[c][c];
      for (std::size_t j = c; j < n; ++j) a[r][j] -= k * a[c][j];
      b[r] -= k * b[c];
    }
  }
  x.assign(n, 0);
  for (std::size_t c = n; c-- > 0;) {
    double s = b[c];
    for (std::size_t j = c + 1; j < n; ++j) s -= a[c][j] * x[j];
    x[c] = s / a[c][c];
  }
  return true;
}

struct Descent {
  Values value{};
  double cost = 0;
  int iterations = 0;
};

// Levenberg-Marquardt from `value` on the free parameters.
Result<Descent> descend(const Fit& fit, Values value, int max_iterations) {
  // Steps for the numerical derivatives, and floors that keep values meaningful.
  const Values step = {1.0, 1.0, 1.0, 1e-4}, floor = {0.0, 0.0, 0.0, 1e-3};
  std::vector<double> residuals;
  auto current = fit.cost(value, &residuals);
  if (!current.ok()) return current.status();
  double lambda = 1e-3;
  int iterations = 0;
  const std::size_t n = fit.free.size(), m = fit.measured.size();
  for (; iterations < max_iterations; ++iterations) {
    // Jacobian of the residuals by forward differences.
    std::vector<std::vector<double>> jac(m, std::vector<double>(n));
    for (std::size_t j = 0; j < n; ++j) {
      const Parameter p = fit.free[j];
      Values moved = value;
      const double h = std::max(step[p], 1e-6 * std::abs(value[p]));
      moved[p] += h;
      std::vector<double> r2;
      auto c = fit.cost(moved, &r2);
      if (!c.ok()) return c.status();
      for (std::size_t i = 0; i < m; ++i) jac[i][j] = (r2[i] - residuals[i]) / h;
    }
    std::vector<std::vector<double>> jtj(n, std::vector<double>(n, 0));
    std::vector<double> jtr(n, 0);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t a = 0; a < n; ++a) {
        jtr[a] -= jac[i][a] * residuals[i];
        for (std::size_t b = 0; b < n; ++b) jtj[a][b] += jac[i][a] * jac[i][b];
      }
    bool improved = false;
    bool converged = false;
    for (int tries = 0; tries < 12 && !improved; ++tries) {
      std::vector<std::vector<double>> damped = jtj;
      for (std::size_t a = 0; a < n; ++a) damped[a][a] += lambda * std::max(jtj[a][a], 1e-30);
      std::vector<double> delta;
      if (!solve(damped, jtr, delta)) {
        lambda *= 10;
        continue;
      }
      Values next = value;
      for (std::size_t j = 0; j < n; ++j)
        next[fit.free[j]] = std::max(floor[fit.free[j]], value[fit.free[j]] + delta[j]);
      std::vector<double> r2;
      auto c = fit.cost(next, &r2);
      if (!c.ok()) return c.status();
      if (*c < *current) {
        converged = *current - *c < 1e-12 * *current;
        value = next;
        residuals = std::move(r2);
        current = *c;
        lambda = std::max(lambda / 3, 1e-12);
        improved = true;
      } else {
        lambda *= 4;
      }
    }
    if (!improved || converged) break;
  }
  return Descent{value, *current, iterations};
}

}  // namespace

Result<CalibrationResult> calibrate(const FabricDescription& fabric, const FabricOptions& options,
                                    const std::vector<Measurement>& measurements,
                                    const CalibrationSettings& settings) {
  if (measurements.empty())
    return make_error(StatusCode::invalid_argument, "no measurements to fit");
  if (fabric.hosts.empty() || fabric.links.empty())
    return make_error(StatusCode::invalid_argument, "the fabric has no hosts or links");
  Fit fit{fabric, options, measurements, {}};
  if (settings.fit_overhead) {
    fit.free.push_back(kSend);
    fit.free.push_back(kRecv);
  }
  if (settings.fit_latency) fit.free.push_back(kLatency);
  if (settings.fit_rate) fit.free.push_back(kRate);
  if (fit.free.empty()) return make_error(StatusCode::invalid_argument, "nothing to fit");
  if (fit.free.size() > measurements.size())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("{} measurements cannot fix {} parameters", measurements.size(),
                                  fit.free.size()));
  const HostTiming& t0 = fabric.hosts[0].timing;
  const Values start = {static_cast<double>(t0.send_overhead) / kPicosPerNano,
                        static_cast<double>(t0.recv_overhead) / kPicosPerNano,
                        static_cast<double>(fabric.links[0].latency) / kPicosPerNano, 1.0};
  auto first = descend(fit, start, settings.max_iterations);
  if (!first.ok()) return first.status();
  Descent best = *first;
  // The model sees the two overheads mostly as their sum; the split shows
  // only where one of them bounds a pipeline (max(o, g)), a kink a descent
  // from a symmetric start never crosses. Restart from lopsided splits.
  if (settings.fit_overhead) {
    const double total = best.value[kSend] + best.value[kRecv];
    for (double share : {0.1, 0.3, 0.7, 0.9}) {
      Values again = best.value;
      again[kSend] = total * share;
      again[kRecv] = total * (1 - share);
      auto d = descend(fit, again, settings.max_iterations);
      if (!d.ok()) return d.status();
      best.iterations += d->iterations;
      if (d->cost < best.cost) {
        const int iterations = best.iterations;
        best = *d;
        best.iterations = iterations;
      }
    }
  }
  // All-reduce times alone often cannot tell which side pays which overhead
  // (every rank sends and receives alike): when swapping them changes no
  // model time, keep the input's order so the fit does not invent one.
  bool split_identified = true;
  if (settings.fit_overhead) {
    Values swapped = best.value;
    std::swap(swapped[kSend], swapped[kRecv]);
    auto c = fit.cost(swapped, nullptr);
    if (!c.ok()) return c.status();
    split_identified = std::abs(*c - best.cost) > 1e-9 * std::max(best.cost, 1e-12);
    const bool input_order = t0.send_overhead >= t0.recv_overhead;
    if (!split_identified && (best.value[kSend] >= best.value[kRecv]) != input_order)
      best.value = swapped;
  }
  const Values value = best.value;
  const int iterations = best.iterations;
  const std::size_t m = measurements.size();

  CalibrationResult out;
  out.fabric = fit.apply(value);
  out.send_overhead = static_cast<Time>(std::llround(value[kSend] * kPicosPerNano));
  out.recv_overhead = static_cast<Time>(std::llround(value[kRecv] * kPicosPerNano));
  out.latency = static_cast<Time>(std::llround(value[kLatency] * kPicosPerNano));
  out.rate_scale = value[kRate];
  out.host_gbps = out.fabric.hosts[0].ports[0].gbps;
  out.iterations = iterations;
  out.overhead_split_identified = split_identified;
  auto times = fit.model(value);
  if (!times.ok()) return times.status();
  double sum = 0;
  for (std::size_t i = 0; i < m; ++i) {
    const double r = ((*times)[i] - measurements[i].time_us) / measurements[i].time_us;
    out.rows.push_back({measurements[i], (*times)[i], r});
    sum += r * r;
  }
  out.rms_relative_error = std::sqrt(sum / static_cast<double>(m));
  return out;
}

}  // namespace inca
