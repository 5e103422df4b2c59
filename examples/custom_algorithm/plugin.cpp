// The entry `inca bench --plugin build/lib/libcustom_algorithm.so` calls
// (inca/plugin.hpp).
#include "custom_algorithm/star_allreduce.hpp"

extern "C" int inca_register_algorithms() {
  return example::register_example_algorithms();
}
