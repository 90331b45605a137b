// The split of sources into shards (pure; see the header).
#include "engine/copy/shard_split.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <queue>
#include <tuple>
#include <utility>

#include "protocol/size.hpp"

namespace pghaul::engine {

std::map<std::string, int> split_into_shards(const std::vector<sized_source>& sources, int shards) {
    std::vector<const sized_source*> order;
    for (auto& s : sources) order.push_back(&s);
    std::sort(order.begin(), order.end(), [](const sized_source* a, const sized_source* b) {
        return a->bytes != b->bytes ? a->bytes > b->bytes : a->name < b->name;
    });
    // (bytes so far, sources so far, index): the smallest on top, so equal
    // bytes go to the shard with fewer sources (empty databases spread out),
    // then to the lowest index.
    using load = std::tuple<std::int64_t, int, int>;
    std::priority_queue<load, std::vector<load>, std::greater<>> least;
    for (int i = 0; i < shards; ++i) least.push({0, 0, i});
    std::map<std::string, int> out;
    for (const auto* s : order) {
        auto [bytes, count, index] = least.top();
        least.pop();
        out[s->name] = index;
        least.push({bytes + s->bytes, count + 1, index});
    }
    return out;
}

std::string describe_shards(const std::vector<sized_source>& sources,
                            const std::map<std::string, int>& shard_of, int shards, double mb_per_s) {
    struct shard {
        std::int64_t bytes = 0;
        std::vector<std::string> names;
    };
    std::vector<shard> all(static_cast<std::size_t>(shards));
    for (auto& s : sources) {
        auto& sh = all[static_cast<std::size_t>(shard_of.at(s.name))];
        sh.bytes += s.bytes;
        sh.names.push_back(s.name);
    }
    std::string out =
        fmt::format("{:>5} {:>8} {:>10} {:>11}  {}\n", "shard", "sources", "size", "estimated", "names");
    for (std::size_t i = 0; i < all.size(); ++i) {
        auto& sh = all[i];
        std::sort(sh.names.begin(), sh.names.end());
        out += fmt::format("{:>5} {:>8} {:>10} {:>9.0f} s  {}\n", i, sh.names.size(), format_size(sh.bytes),
                           static_cast<double>(sh.bytes) / 1048576.0 / mb_per_s,
                           sh.names.empty() ? "-" : fmt::format("{}", fmt::join(sh.names, ", ")));
    }
    return out;
}

}  // namespace pghaul::engine
