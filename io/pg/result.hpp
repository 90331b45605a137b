// pg::result owns a PGresult from the line libpq returns it.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace pghaul::pg {

class result {
public:
    result() = default;
    explicit result(PGresult* r) : r_(r, &PQclear) {}

    explicit operator bool() const { return r_ != nullptr; }
    PGresult* get() const { return r_.get(); }
    ExecStatusType status() const { return PQresultStatus(r_.get()); }

    int rows() const { return PQntuples(r_.get()); }
    int columns() const { return PQnfields(r_.get()); }
    bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
    std::string_view text(int row, int col) const {
        return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }
    std::string str(int row, int col) const { return std::string(text(row, col)); }
    std::int64_t i64(int row, int col) const { return std::stoll(str(row, col)); }
    bool boolean(int row, int col) const { return text(row, col) == "t"; }
    // Rows affected by the command ("COPY 42" -> 42).
    std::uint64_t command_rows() const {
        const char* n = PQcmdTuples(r_.get());
        return (n && *n) ? std::stoull(n) : 0;
    }
    std::string field(int code) const {
        const char* f = PQresultErrorField(r_.get(), code);
        return f ? f : "";
    }

private:
    std::unique_ptr<PGresult, decltype(&PQclear)> r_{nullptr, &PQclear};
};

}  // namespace pghaul::pg
