// The state journal: what of one source's copy has committed on the target,
// so a run stopped by Ctrl-C, kill -9, a crash or a reboot continues with
// --resume instead of starting over. One file per target database under the
// state directory; one JSON object per line, appended after the target
// committed what it records. A torn last line (a crash mid-append) is
// ignored: its step is redone. Records a resume cannot do without (the
// database was created, its schema prepared, a reset, finished, done) wait
// for the disk (fdatasync); the per-table ones (a load, a part, an index
// build, constraints) need not, as the next paragraph says why losing one to
// a machine crash is safe, and are flushed with the next record that waits.
// (2000 small tables: 4000 fewer fdatasyncs, each 0.2 ms on this VM's disk
// and milliseconds on a server's that honours them.)
//
// What is safe to redo decides what is recorded: a whole table reloads as
// TRUNCATE + COPY in one transaction, so a load that committed but was not
// recorded is simply loaded again. A split table's parts load in separate
// transactions without TRUNCATE, so unless every part is recorded the whole
// table is truncated and reloaded. Index builds and each table's constraint
// transaction are atomic; one that committed unrecorded fails as "already
// exists" on resume and counts as done (see source_job). Post-data runs in one
// transaction that also clears the database's INCOMPLETE comment, which is
// the record of its commit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/detail/unique_fd.hpp"
#include "protocol/conninfo.hpp"
#include "protocol/error.hpp"

namespace pghaul::engine {

// What earlier attempts recorded for one target database.
struct journal_state {
    int attempts = 0;                // runs that wrote to this journal
    std::string source;              // the source's endpoint, as first recorded
    bool created = false;            // the target database was created by pghaul
    std::uint32_t database_oid = 0;  // its OID: the same name later may be another database
    bool prepared = false;           // and its pre-data committed
    std::string schema_hash;         // of pg_dump's output then, to refuse a changed source
    std::string snapshot;            // the snapshot the preparing attempt used
    struct table_load {
        std::uint64_t rows = 0;
        std::string snapshot;
    };
    std::map<std::string, table_load> tables;  // whole tables loaded, by qualified name
    // Split tables: first page of each loaded part -> rows, until a reset.
    std::map<std::string, std::map<std::int64_t, table_load>> parts;
    std::set<std::string> steps;     // post-data steps done (index and constraint names)
    std::set<std::string> attached;  // tables whose constraints and ANALYZE are done
    bool finished = false;           // post-data, sequences, grants, settings committed
    bool done = false;               // finished and verified
};

class journal {
public:
    // The journal of `target_db` on the target server `target` under `dir`.
    static std::filesystem::path path_for(const std::filesystem::path& dir, const conninfo& target,
                                          const std::string& target_db);
    // What the file at `path` records; nullopt if there is none.
    static std::optional<journal_state> read(const std::filesystem::path& path);

    // Whether a live pghaul holds the journal (each holds its own locked).
    static bool in_use(const std::filesystem::path& path);
    static error busy_error(const std::filesystem::path& path);

    // Opens (creating it 0600, and its directory 0700) for appending, locked.
    explicit journal(std::filesystem::path path);
    const std::filesystem::path& path() const { return path_; }

    // Appends one record ({"e": event, ...}) and waits until it is on disk.
    void record(const std::string& event, nlohmann::json fields = nlohmann::json::object());
    // Appends several records with one wait for the disk.
    void record_all(std::vector<std::pair<std::string, nlohmann::json>> records);
    // Appends records whose loss in a machine crash only means their step is
    // redone (see above): no wait for the disk.
    void note_all(std::vector<std::pair<std::string, nlohmann::json>> records);
    // The run is over for this database (done, or dropped): forget it, and the
    // state directory too if nothing else is left in it.
    void remove() noexcept;
    static void remove_file(const std::filesystem::path& path) noexcept;

private:
    void append(std::vector<std::pair<std::string, nlohmann::json>> records, bool wait_for_disk);

    std::filesystem::path path_;
    detail::unique_fd fd_;
    std::mutex mu_;
};

// A stable 64-bit FNV-1a hash, as 16 hex digits (journal's schema check).
std::string text_hash(std::string_view text);

}  // namespace pghaul::engine
