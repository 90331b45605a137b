// libpq connection wrapper. Connections are opened with PQconnectdbParams and
// expand_dbname=0, so a database name taken from a catalog can never be
// reinterpreted as a connection string (CVE-2016-5424).
#include "io/pg/connection.hpp"

#include <sys/stat.h>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <utility>

namespace pghaul::pg {
namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// Hints for the connection failures users meet most.
std::string connect_hint(const std::string& msg) {
    if (msg.find("password authentication failed") != std::string::npos ||
        msg.find("no password supplied") != std::string::npos)
        return "check the user and password: libpq reads them from the connection string, PGPASSWORD, "
               "or a ~/.pgpass / PGPASSFILE file (which must be mode 0600)";
    if (msg.find("does not exist") != std::string::npos && msg.find("database") != std::string::npos)
        return "check the dbname in the connection string; list databases with psql -l";
    if (msg.find("Connection refused") != std::string::npos ||
        msg.find("could not translate") != std::string::npos ||
        msg.find("timeout expired") != std::string::npos || msg.find("No such file") != std::string::npos)
        return "check host and port, and that the server accepts connections from this machine";
    // TLS: the server has it off, or its certificate cannot be checked.
    if (msg.find("does not support SSL") != std::string::npos)
        return "the server has TLS (ssl) turned off: have it turned on, or use sslmode=prefer or disable "
               "only where the network is trusted";
    if (msg.find("root certificate file") != std::string::npos ||
        msg.find("certificate verify failed") != std::string::npos ||
        msg.find("does not match host name") != std::string::npos)
        return "give the server's CA with sslrootcert=FILE (and connect by the name in its certificate); "
               "sslmode=require encrypts without checking who answers";
    // libpq's option checks ("invalid integer value ... for connection option
    // \"port\"", "invalid sslmode value") fail before any network traffic.
    if (msg.find("connection option") != std::string::npos || msg.find("invalid ") == 0)
        return "fix that option in the connection string (see \"Connection Strings\" in the libpq "
               "documentation for valid values)";
    return {};
}

// Connection attempts get the SQLSTATE the server would have used, which
// libpq does not hand over: those that may work a moment later (the server
// restarting, full, or briefly unreachable) so callers retry them or keep the
// work for --resume; wrong credentials and names so a report or a script can
// tell them apart without parsing the message.
std::string connect_sqlstate(const std::string& msg) {
    if (msg.find("password authentication failed") != std::string::npos) return "28P01";
    if (msg.find("no pg_hba.conf entry") != std::string::npos ||
        (msg.find("role \"") != std::string::npos && msg.find("does not exist") != std::string::npos))
        return "28000";
    if (msg.find("database \"") != std::string::npos && msg.find("does not exist") != std::string::npos)
        return "3D000";
    if (msg.find("too many clients") != std::string::npos ||
        msg.find("remaining connection slots") != std::string::npos)
        return "53300";
    if (msg.find("the database system is") != std::string::npos) return "57P03";  // shutting/starting up
    for (const char* transient : {"Connection refused", "server closed the connection unexpectedly",
                                  "Connection reset", "timeout expired", "could not receive data"})
        if (msg.find(transient) != std::string::npos) return "08001";
    return {};
}

// libpq skips a password file that others can read, saying so only in a
// warning that scrolls away: the hint names the file and the fix instead.
std::string ignored_passfile_hint(PGconn* c) {
    std::string path;
    if (PQconninfoOption* opts = PQconninfo(c)) {
        for (auto* o = opts; o->keyword; ++o)
            if (std::strcmp(o->keyword, "passfile") == 0 && o->val) path = o->val;
        PQconninfoFree(opts);
    }
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
        return {};
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return "the password file " + path + " is mode " + mode +
           ", so libpq ignored it: make it private with chmod 600 " + path;
}

}  // namespace

namespace {

std::atomic<notice_sink> notices{nullptr};

void on_notice(void* tag, const char* message) {
    std::string_view m(message);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.remove_suffix(1);
    if (auto sink = notices.load())
        sink(*static_cast<const std::string*>(tag), m);
    else
        std::fprintf(stderr, "%s\n", std::string(m).c_str());
}

}  // namespace

std::string connection::transport() const {
    if (PQsslInUse(conn_)) {
        const char* protocol = PQsslAttribute(conn_, "protocol");
        const char* cipher = PQsslAttribute(conn_, "cipher");
        return std::string(protocol ? protocol : "TLS") + (cipher ? std::string(" (") + cipher + ")" : "");
    }
    const char* host = PQhost(conn_);
    return host && host[0] == '/' ? "Unix socket" : "no TLS";
}

void set_notice_sink(notice_sink sink) noexcept {
    notices = sink;
}

connection::connection(PGconn* c, std::string endpoint, exit_code side)
    : conn_(c),
      endpoint_(std::move(endpoint)),
      side_(side),
      backend_pid_(PQbackendPID(c)),
      notice_tag_(std::make_unique<std::string>(endpoint_)) {
    cancel_ = PQgetCancel(conn_);
    PQsetNoticeProcessor(conn_, &on_notice, notice_tag_.get());
}

connection::connection(connection&& o) noexcept
    : conn_(std::exchange(o.conn_, nullptr)),
      cancel_(std::exchange(o.cancel_, nullptr)),
      endpoint_(std::move(o.endpoint_)),
      side_(o.side_),
      backend_pid_(o.backend_pid_),
      copy_what_(std::move(o.copy_what_)),
      notice_tag_(std::move(o.notice_tag_)) {}

connection& connection::operator=(connection&& o) noexcept {
    // Swap: the moved-from object closes what this one held.
    std::swap(conn_, o.conn_);
    std::swap(cancel_, o.cancel_);
    std::swap(endpoint_, o.endpoint_);
    std::swap(side_, o.side_);
    std::swap(backend_pid_, o.backend_pid_);
    std::swap(copy_what_, o.copy_what_);
    std::swap(notice_tag_, o.notice_tag_);
    return *this;
}

connection::~connection() {
    if (cancel_) PQfreeCancel(cancel_);
    if (conn_) PQfinish(conn_);
}

connection connection::open(const conninfo& in, std::string_view application_name, exit_code side) {
    conninfo ci = in;
    ci.set_default("application_name", std::string(application_name));
    ci.set_default("connect_timeout", "10");
    // A peer that vanished without a word (a host gone, a NAT or firewall
    // entry dropped) is noticed within 90 s: keepalives while the connection
    // is quiet, and tcp_user_timeout while sent data goes unacknowledged (a
    // COPY into a vanished target, where keepalives never start). A slow
    // link still acknowledges, so it does not trip it.
    ci.set_default("keepalives", "1");
    ci.set_default("keepalives_idle", "30");
    ci.set_default("keepalives_interval", "10");
    ci.set_default("keepalives_count", "6");
    ci.set_default("tcp_user_timeout", "90000");

    std::vector<const char*> keys, values;
    for (auto& [k, v] : ci.options()) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);

    PGconn* c = PQconnectdbParams(keys.data(), values.data(), 0);
    std::string endpoint = ci.endpoint();
    if (!c) throw error(exit_code::local, "out of memory connecting to " + endpoint);
    if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = trim(PQerrorMessage(c));
        std::string hint = connect_hint(msg);
        if (msg.find("no password supplied") != std::string::npos ||
            msg.find("password authentication failed") != std::string::npos)
            if (auto passfile = ignored_passfile_hint(c); !passfile.empty()) hint = passfile;
        PQfinish(c);
        throw error(exit_code::preflight, "cannot connect to " + endpoint + ": " + msg, hint,
                    connect_sqlstate(msg));
    }
    connection conn(c, endpoint, side);
    // Long copies must not be cut short by the server's or the role's defaults.
    // JIT off: pghaul's queries are catalog reads and COPY, where compiling
    // costs and gains nothing (the catalog's type walk took 175 ms with JIT,
    // 35 ms without, on a 34-table database).
    // A role's idle_session_timeout (14+) would end connections a worker keeps
    // between tasks, and transaction_timeout (17+) the snapshot's transaction.
    const int version = PQserverVersion(c);
    conn.exec(std::string("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0; ") +
                  (version >= 140000 ? "SET idle_session_timeout = 0; " : "") +
                  (version >= 170000 ? "SET transaction_timeout = 0; " : "") +
                  "SET lock_timeout = 0; SET client_min_messages = warning; SET jit = off; "
                  // A resume trusts what the journal recorded (the schema, index
                  // builds): those commits must be durable even where the
                  // server's default is synchronous_commit = off (some non-prod
                  // servers, the test sandbox). Loads turn it off themselves,
                  // and --resume re-counts them.
                  "SELECT CASE WHEN current_setting('synchronous_commit') = 'off' "
                  "THEN pg_catalog.set_config('synchronous_commit', 'local', false) END",
              "setting session defaults");
    return conn;
}

namespace {

constexpr std::string_view not_shown = "(not shown)";

// Every "quoted" span of a data error's message is the offending input.
std::string without_quoted(const std::string& text) {
    std::string out;
    for (std::size_t at = 0;;) {
        auto open = text.find('"', at), close = open == std::string::npos ? open : text.find('"', open + 1);
        if (close == std::string::npos) return out + text.substr(at);
        out += text.substr(at, open - at) + std::string(not_shown);
        at = close + 1;
    }
}

// The server's error as its fields, without the row values some carry: a
// failing row or key in DETAIL (integrity errors), the input in a data
// error's message, the line and field in a COPY's CONTEXT. The log, the
// JSON and HTML reports get these messages, and a row may hold personal
// data or a secret (catalogue S11). Names of tables, columns and constraints
// stay: they say where to look.
std::string server_message(const result& r) {
    const std::string sqlstate = r.field(PG_DIAG_SQLSTATE);
    const std::string severity = r.field(PG_DIAG_SEVERITY);
    std::string primary = r.field(PG_DIAG_MESSAGE_PRIMARY);
    std::string detail = r.field(PG_DIAG_MESSAGE_DETAIL);
    std::string context = r.field(PG_DIAG_CONTEXT);
    if (primary.empty()) return trim(PQresultErrorMessage(r.get()));
    // 22023 (invalid_parameter_value) quotes what pghaul passed (a snapshot
    // id, a setting), not a row's value: shown.
    const bool integrity = sqlstate.rfind("23", 0) == 0,
               data = sqlstate.rfind("22", 0) == 0 && sqlstate != "22023";
    if (data) primary = without_quoted(primary);
    if ((integrity || data) && !detail.empty()) detail = "row values " + std::string(not_shown);
    // "COPY t, line 3, column c: "value"" and "COPY t, line 3: "the line"".
    for (std::size_t at = 0; (at = context.find("COPY ", at)) != std::string::npos; at += 5) {
        auto line = context.find(", line ", at);
        auto colon = line == std::string::npos ? line : context.find(": ", line);
        auto end = context.find('\n', at);
        if (colon != std::string::npos && colon < end)
            context = context.substr(0, colon + 2) + std::string(not_shown) +
                      (end == std::string::npos ? std::string() : context.substr(end));
    }
    std::string out = (severity.empty() ? std::string("ERROR") : severity) + ":  " + primary;
    if (!detail.empty()) out += "\nDETAIL:  " + detail;
    if (!context.empty()) out += "\nCONTEXT:  " + context;
    return out;
}

}  // namespace

void connection::fail(std::string_view what, const result* r) const {
    std::string server = r && *r ? server_message(*r) : std::string();
    if (server.empty()) server = trim(PQerrorMessage(conn_));
    std::string sqlstate = r && *r ? r->field(PG_DIAG_SQLSTATE) : std::string();
    std::string hint = r && *r ? r->field(PG_DIAG_MESSAGE_HINT) : std::string();
    std::string msg = std::string(what.empty() ? "query" : what) + " failed on " + endpoint_;
    msg += server.empty() ? std::string() : ": " + server;
    // libpq itself could not allocate (a huge row under ulimit -v or a
    // container's limit): it drops the connection, but a retry would fail the
    // same way, so it is not a lost connection.
    if (sqlstate.empty() &&
        (server.find("cannot allocate memory") != std::string::npos || server.rfind("out of memory", 0) == 0))
        throw error(
            exit_code::local, msg,
            "pghaul ran out of memory: a row takes about twice its size; raise the memory limit "
            "of pghaul's process (ulimit -v, the container's limit) or lower --jobs, then run the same "
            "command with --resume",
            "53200");
    // A lost connection has no result to carry a SQLSTATE: name it as the
    // server would (connection_failure), so callers can decide to retry.
    if (sqlstate.empty() && PQstatus(conn_) == CONNECTION_BAD) sqlstate = "08006";
    throw error(side_, msg, hint, sqlstate);
}

result connection::exec(std::string_view sql, std::string_view what) {
    std::string q(sql);
    result r(PQexec(conn_, q.c_str()));
    if (!r || (r.status() != PGRES_COMMAND_OK && r.status() != PGRES_TUPLES_OK)) fail(what, &r);
    return r;
}

result connection::exec_params(std::string_view sql, const std::vector<std::optional<std::string>>& params,
                               std::string_view what) {
    std::vector<const char*> vals;
    vals.reserve(params.size());
    for (auto& p : params) vals.push_back(p ? p->c_str() : nullptr);
    std::string q(sql);
    result r(PQexecParams(conn_, q.c_str(), static_cast<int>(vals.size()), nullptr, vals.data(), nullptr,
                          nullptr, 0));
    if (!r || (r.status() != PGRES_COMMAND_OK && r.status() != PGRES_TUPLES_OK)) fail(what, &r);
    return r;
}

result connection::exec_formats(std::string_view sql, const std::vector<std::string_view>& values,
                                const std::vector<int>& formats, int result_format, std::string_view what) {
    std::vector<const char*> ptrs;
    std::vector<int> lengths;
    for (auto v : values) {
        ptrs.push_back(v.data());
        lengths.push_back(static_cast<int>(v.size()));
    }
    std::string q(sql);
    result r(PQexecParams(conn_, q.c_str(), static_cast<int>(values.size()), nullptr, ptrs.data(),
                          lengths.data(), formats.data(), result_format));
    if (!r || (r.status() != PGRES_COMMAND_OK && r.status() != PGRES_TUPLES_OK)) fail(what, &r);
    return r;
}

void connection::begin_copy(std::string_view copy_sql, ExecStatusType expect, std::string_view what) {
    copy_what_ = std::string(what);
    std::string q(copy_sql);
    result r(PQexec(conn_, q.c_str()));
    if (!r || r.status() != expect) fail(what, &r);
}

bool connection::get_copy_data(copy_buffer& row) {
    char* buf = nullptr;
    int n = PQgetCopyData(conn_, &buf, 0);
    // Own the buffer before looking at it, so no path leaks it.
    row.buf_.reset(buf);
    row.size_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (n > 0) return true;
    if (n == -1) return false;
    fail(copy_what_);
}

void connection::put_copy_data(std::string_view bytes) {
    if (PQputCopyData(conn_, bytes.data(), static_cast<int>(bytes.size())) != 1) fail(copy_what_);
}

result connection::end_copy_in(const char* error_message) {
    if (PQputCopyEnd(conn_, error_message) != 1) fail(copy_what_);
    result r(PQgetResult(conn_));
    drain();
    if (error_message) return r;
    if (!r || r.status() != PGRES_COMMAND_OK) fail(copy_what_, &r);
    return r;
}

result connection::end_copy_out() {
    result r(PQgetResult(conn_));
    drain();
    if (!r || r.status() != PGRES_COMMAND_OK) fail(copy_what_, &r);
    return r;
}

void connection::abort_copy_in(const char* reason) noexcept {
    if (PQtransactionStatus(conn_) == PQTRANS_ACTIVE) PQputCopyEnd(conn_, reason);
    drain();
}

void connection::rollback() noexcept {
    drain();
    if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE)
        PQclear(PQexec(conn_, "ROLLBACK"));
}

void connection::request_cancel() noexcept {
    if (!cancel_) return;
    char err[256];
    PQcancel(cancel_, err, sizeof err);
}

void connection::drain() noexcept {
    while (PGresult* r = PQgetResult(conn_)) {
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        // A COPY still in progress must be ended before libpq returns null.
        if (st == PGRES_COPY_IN) PQputCopyEnd(conn_, "aborted by pghaul");
        if (st == PGRES_COPY_OUT) {
            char* buf = nullptr;
            while (PQgetCopyData(conn_, &buf, 0) > 0) PQfreemem(buf);
        }
        if (PQstatus(conn_) == CONNECTION_BAD) break;
    }
}

}  // namespace pghaul::pg
