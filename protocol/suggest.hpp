// "Did you mean ...?" for a misspelt manifest key, flag or subcommand.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pghaul {

// Optimal string alignment distance: a swapped pair ("jbos") counts as one edit.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate within two edits of `word` (more is another word, not a
// typo), the closest first; empty when there is none.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace pghaul
