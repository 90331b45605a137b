// Deleters for zstd's contexts, for unique_ptr<void, ...>: the spool's frames
// and the agent link's streams hold their contexts this way, so zstd.h stays
// out of their headers. Defined in frame_codec.cpp.
#pragma once

namespace pghaul::detail {
struct zstd_cctx_free {
    void operator()(void* p) const noexcept;
};
struct zstd_dctx_free {
    void operator()(void* p) const noexcept;
};
}  // namespace pghaul::detail
