// INCA_* environment overrides: each knob parses into its field in its units,
// a bad value is a config_error naming the variable and changes nothing, and
// describe_knobs lists every knob with value and default.
#include "inca/knobs.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace inca {
namespace {

// Sets a variable for one test and removes it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(Knobs, EnvironmentOverridesEveryFieldInItsUnits) {
  ScopedEnv a("INCA_WINDOW", "16"), b("INCA_SLOT_BYTES", "1024"), c("INCA_SWITCH_SLOTS", "128"),
      d("INCA_LINK_GBPS", "400"), e("INCA_LATENCY_NS", "250.5"), f("INCA_MTU", "9000"),
      g("INCA_RETRANSMIT_TIMEOUT_US", "50"), h("INCA_ALGORITHM", "ring"),
      i("INCA_REPRODUCIBLE", "true"), j("INCA_RANKS", "8"), k("INCA_TIMING_ONLY", "1");
  FabricOptions fabric;
  AllreduceOptions call;
  ASSERT_TRUE(apply_env_overrides(fabric, &call).ok());
  EXPECT_EQ(fabric.window, 16u);
  EXPECT_EQ(fabric.slot_bytes, 1024u);
  EXPECT_EQ(fabric.switch_slots, 128u);
  EXPECT_DOUBLE_EQ(fabric.link_gbps, 400);
  EXPECT_EQ(fabric.latency, 250500);  // ps
  EXPECT_EQ(fabric.mtu, 9000u);
  EXPECT_EQ(fabric.retransmit_timeout, 50 * kPicosPerMicro);
  EXPECT_EQ(fabric.ranks, 8u);
  EXPECT_TRUE(fabric.timing_only);
  EXPECT_EQ(call.algorithm, "ring");
  EXPECT_TRUE(call.reproducible);
}

// The timing knobs set the built-in fabric's fields and, since they describe
// every element, also override a fabric file's values; the others do not.
TEST(Knobs, FabricKnobsAlsoOverrideAFabricFile) {
  ScopedEnv a("INCA_SEND_OVERHEAD_NS", "900"), b("INCA_RECV_OVERHEAD_NS", "700"),
      c("INCA_GAP_NS", "12.5"), d("INCA_SWITCH_LATENCY_NS", "130"),
      e("INCA_AGGREGATION_LATENCY_NS", "250"), f("INCA_AGGREGATION_GBPS", "3200"),
      g("INCA_PRESET", "ndr-400g"), h("INCA_LINK_GBPS", "400"), i("INCA_WINDOW", "32");
  FabricOptions fabric;
  ASSERT_TRUE(apply_env_overrides(fabric).ok());
  EXPECT_EQ(fabric.host_send_overhead, 900 * kPicosPerNano);
  EXPECT_EQ(fabric.host_recv_overhead, 700 * kPicosPerNano);
  EXPECT_EQ(fabric.host_gap, 12500);
  EXPECT_EQ(fabric.switch_forwarding_latency, 130 * kPicosPerNano);
  EXPECT_EQ(fabric.switch_aggregation_latency, 250 * kPicosPerNano);
  EXPECT_DOUBLE_EQ(fabric.switch_aggregation_gbps, 3200);
  EXPECT_EQ(fabric.preset, "ndr-400g");
  EXPECT_EQ(fabric.overrides.send_overhead, 900 * kPicosPerNano);
  EXPECT_EQ(fabric.overrides.recv_overhead, 700 * kPicosPerNano);
  EXPECT_EQ(fabric.overrides.gap, 12500);
  EXPECT_EQ(fabric.overrides.forwarding_latency, 130 * kPicosPerNano);
  EXPECT_EQ(fabric.overrides.aggregation_latency, 250 * kPicosPerNano);
  EXPECT_EQ(fabric.overrides.aggregation_gbps, 3200.0);
  EXPECT_EQ(fabric.overrides.link_gbps, 400.0);
  EXPECT_FALSE(fabric.overrides.mtu.has_value());  // not set
  EXPECT_FALSE(fabric.overrides.hosts.has_value());
}

TEST(Knobs, TopologyAndRecoveryKnobsParseTheirNamesAndUnits) {
  ScopedEnv a("INCA_TOPOLOGY", "star"), b("INCA_FABRIC", "live"), c("INCA_SPINES", "4"),
      d("INCA_HOSTS_PER_LEAF", "16"), e("INCA_ON_SWITCH_FAILURE", "fallback"),
      f("INCA_FAILURE_TIMEOUT_US", "2500"), g("INCA_MAX_RERUNS", "0"),
      h("INCA_ADAPTIVE_TIMEOUT", "off"), i("INCA_HOST_REDUCE_GBPS", "200"),
      j("INCA_MIN_TIMEOUT_US", "7"), k("INCA_AGREEMENT_TIMEOUT_US", "9000"),
      l("INCA_HIERARCHICAL_GROUP", "4");
  FabricOptions fabric;
  ASSERT_TRUE(apply_env_overrides(fabric).ok());
  EXPECT_EQ(fabric.hierarchical_group, 4u);
  EXPECT_EQ(fabric.topology, TopologyKind::star);
  EXPECT_EQ(fabric.fabric, FabricKind::live);
  EXPECT_EQ(fabric.spines, 4u);
  EXPECT_EQ(fabric.hosts_per_leaf, 16u);
  EXPECT_EQ(fabric.recovery.on_switch_failure, SwitchFailurePolicy::fallback);
  EXPECT_EQ(fabric.recovery.failure_timeout, 2500 * kPicosPerMicro);
  EXPECT_EQ(fabric.recovery.max_reruns, 0u);
  EXPECT_FALSE(fabric.recovery.adaptive_timeout);
  EXPECT_DOUBLE_EQ(fabric.host_reduce_gbps, 200);
  EXPECT_EQ(fabric.recovery.min_timeout, 7 * kPicosPerMicro);
  EXPECT_EQ(fabric.recovery.agreement_timeout, 9 * kPicosPerMilli);
}

TEST(Knobs, ProcessFabricsLeaveInProcessOptionsAlone) {
  ScopedEnv launched("INCA_FABRIC", "udp");  // what inca launch gives its ranks
  FabricOptions fabric;
  ASSERT_TRUE(apply_env_overrides(fabric).ok());
  EXPECT_EQ(fabric.fabric, FabricKind::sim);
}

TEST(Knobs, UnknownEnumNamesListTheChoices) {
  ScopedEnv bad("INCA_ON_SWITCH_FAILURE", "retry");
  FabricOptions fabric;
  Status s = apply_env_overrides(fabric);
  EXPECT_EQ(s.code(), StatusCode::config_error);
  EXPECT_NE(s.message().find("not one of reform, fallback, error"), std::string::npos)
      << s.message();
}

TEST(Knobs, UnparsableValuesNameTheVariableAndChangeNothing) {
  for (auto [name, value] :
       {std::pair{"INCA_WINDOW", "sixteen"}, std::pair{"INCA_WINDOW", "0"},
        std::pair{"INCA_LINK_GBPS", "-1"}, std::pair{"INCA_MTU", "4k"},
        std::pair{"INCA_LATENCY_NS", "nan"}, std::pair{"INCA_REPRODUCIBLE", "maybe"}}) {
    ScopedEnv ok("INCA_SLOT_BYTES", "512");
    ScopedEnv bad(name, value);
    FabricOptions fabric;
    Status s = apply_env_overrides(fabric);
    EXPECT_EQ(s.code(), StatusCode::config_error) << name << "=" << value;
    EXPECT_NE(s.message().find(std::string(name) + "='" + value + "'"), std::string::npos)
        << s.message();
    EXPECT_EQ(fabric.slot_bytes, FabricOptions{}.slot_bytes) << "partially applied";
  }
}

TEST(Knobs, OneKnobByNameSetsItsFieldOnly) {
  FabricOptions fabric;
  AllreduceOptions call;
  ASSERT_TRUE(apply_knob(fabric, &call, "INCA_LATENCY_NS", "250.5").ok());
  ASSERT_TRUE(apply_knob(fabric, &call, "INCA_ALGORITHM", "ring").ok());
  EXPECT_EQ(fabric.latency, 250500);
  EXPECT_EQ(call.algorithm, "ring");
  EXPECT_EQ(fabric.window, FabricOptions{}.window);

  // A bad value changes nothing; an unknown name and a call knob without
  // call options are refused.
  Status s = apply_knob(fabric, &call, "INCA_WINDOW", "0");
  EXPECT_EQ(s.code(), StatusCode::config_error);
  EXPECT_NE(s.message().find("INCA_WINDOW='0'"), std::string::npos) << s.message();
  EXPECT_EQ(fabric.window, FabricOptions{}.window);
  EXPECT_EQ(apply_knob(fabric, &call, "INCA_WINDOWS", "8").code(), StatusCode::invalid_argument);
  EXPECT_EQ(apply_knob(fabric, nullptr, "INCA_REPRODUCIBLE", "1").code(),
            StatusCode::invalid_argument);
  EXPECT_TRUE(apply_knob(fabric, nullptr, "INCA_SPINES", "4").ok());
  EXPECT_EQ(fabric.spines, 4u);
}

TEST(Knobs, DescribeListsValueDefaultAndDocumentation) {
  FabricOptions fabric;
  fabric.window = 8;
  const auto list = describe_knobs(fabric, {.algorithm = "innet"});
  ASSERT_EQ(list.size(), 37u);
  int seen = 0;
  for (const KnobInfo& k : list) {
    EXPECT_FALSE(k.doc.empty()) << k.env;
    if (k.env == "INCA_WINDOW") {
      EXPECT_EQ(k.value, "8");
      EXPECT_EQ(k.default_value, "64");
      ++seen;
    }
    if (k.env == "INCA_ALGORITHM") {
      EXPECT_EQ(k.value, "innet");
      EXPECT_EQ(k.default_value, "auto");
      ++seen;
    }
    if (k.env == "INCA_LATENCY_NS") {
      EXPECT_EQ(k.default_value, "500");
      ++seen;
    }
    if (k.env == "INCA_SIM_MODE") {
      EXPECT_EQ(k.default_value, "packet");
      ++seen;
    }
  }
  EXPECT_EQ(seen, 4);
}

}  // namespace
}  // namespace inca
