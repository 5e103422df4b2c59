// Fabric files (FabricDescription::parse) from arbitrary text: a load either
// gives a description, or at least one located error and no description; a
// description written out (to_yaml) loads again into the same fabric.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "inca/fabric_description.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const inca::FabricLoad load = inca::FabricDescription::parse(text, "fuzz.yaml");
  bool has_error = false;
  for (const inca::Diagnostic& d : load.diagnostics) {
    FUZZ_CHECK(!d.message.empty());
    FUZZ_CHECK(d.where.file == "fuzz.yaml");
    if (d.severity == inca::Severity::error) has_error = true;
  }
  FUZZ_CHECK(load.ok() != has_error);
  if (!load.ok()) return 0;
  const inca::FabricDescription& fabric = *load.description;
  FUZZ_CHECK(!fabric.hosts.empty());
  // Writing out large generated fabrics costs more than it finds.
  if (fabric.links.size() > 512) return 0;
  const inca::FabricLoad again = inca::FabricDescription::parse(fabric.to_yaml(), "fuzz.yaml");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.description->hosts.size() == fabric.hosts.size());
  FUZZ_CHECK(again.description->switches.size() == fabric.switches.size());
  FUZZ_CHECK(again.description->links.size() == fabric.links.size());
  for (std::size_t i = 0; i < fabric.links.size(); ++i) {
    FUZZ_CHECK(again.description->links[i].gbps == fabric.links[i].gbps);
    FUZZ_CHECK(again.description->links[i].latency == fabric.links[i].latency);
    FUZZ_CHECK(again.description->links[i].mtu == fabric.links[i].mtu);
  }
  return 0;
}
