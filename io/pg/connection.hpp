// pg::connection owns a PGconn: connect, run SQL, and stream COPY, with every
// failure turned into a pghaul::error that names the endpoint (never the password).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/pg/result.hpp"
#include "protocol/conninfo.hpp"
#include "protocol/error.hpp"

namespace pghaul::pg {

// One CopyData message as libpq hands it over, owned (and freed) here; valid
// until the next get_copy_data. No copy of the bytes is made.
class copy_buffer {
public:
    std::string_view view() const { return {buf_.get(), size_}; }

private:
    friend class connection;
    std::unique_ptr<char, decltype(&PQfreemem)> buf_{nullptr, &PQfreemem};
    std::size_t size_ = 0;
};

// Where the servers' notices (WARNING, NOTICE) go. By default libpq prints
// them raw on stderr, outside the log, its file and its JSON format; the
// program sets a sink once at start-up. Called on the connection's thread.
using notice_sink = void (*)(const std::string& endpoint, std::string_view message);
void set_notice_sink(notice_sink sink) noexcept;

class connection {
public:
    // `side` is the exit code runtime failures on this connection map to
    // (source or target); connect failures are always preflight errors.
    static connection open(const conninfo& ci, std::string_view application_name, exit_code side);

    connection(connection&& o) noexcept;
    connection& operator=(connection&& o) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    // Runs one or more statements; throws on error with `what` as context.
    result exec(std::string_view sql, std::string_view what = {});
    // One statement with text parameters (NULL when nullopt).
    result exec_params(std::string_view sql, const std::vector<std::optional<std::string>>& params,
                       std::string_view what = {});

    // Parameters with per-parameter formats (0 text, 1 binary) and a result
    // format: for bytea moved without hex encoding.
    result exec_formats(std::string_view sql, const std::vector<std::string_view>& values,
                        const std::vector<int>& formats, int result_format, std::string_view what);

    // COPY streaming. copy_out: fills `chunk` with the next row(s); false at end.
    void begin_copy(std::string_view copy_sql, ExecStatusType expect, std::string_view what);
    bool get_copy_data(copy_buffer& row);  // the next CopyData message, in libpq's own buffer
    void put_copy_data(std::string_view bytes);
    // Ends COPY FROM (error_message non-empty aborts it) and returns the final result.
    result end_copy_in(const char* error_message = nullptr);
    // Collects the final result of a COPY TO after its data ended.
    result end_copy_out();
    // Error paths: end a COPY FROM with an error, and roll back; never throw.
    void abort_copy_in(const char* reason) noexcept;
    void rollback() noexcept;
    // Asks the server to cancel what it is running; safe from another thread.
    void request_cancel() noexcept;
    // Reads and discards results until libpq has none left (after errors/cancel).
    void drain() noexcept;

    int server_version() const { return PQserverVersion(conn_); }
    // The server process serving this connection, as it was at connection
    // time: still known once the connection is lost (PQbackendPID is 0 then).
    int backend_pid() const { return backend_pid_; }
    // How the connection is protected, for logs and reports: "TLSv1.3
    // (TLS_AES_256_GCM_SHA384)", "no TLS", or "Unix socket".
    std::string transport() const;
    const std::string& endpoint() const { return endpoint_; }
    PGconn* raw() const { return conn_; }
    exit_code side() const { return side_; }

    [[noreturn]] void fail(std::string_view what, const result* r = nullptr) const;

private:
    connection(PGconn* c, std::string endpoint, exit_code side);

    PGconn* conn_ = nullptr;
    PGcancel* cancel_ = nullptr;
    std::string endpoint_;
    exit_code side_;
    int backend_pid_ = 0;
    std::string copy_what_;
    // The endpoint for the notice processor: on the heap, so a move keeps it.
    std::unique_ptr<std::string> notice_tag_;
};

}  // namespace pghaul::pg
