// The source snapshot's holder (source_job, see its header): asking the
// agent to hold it across a dropped link, lending it as a reader, reads in
// it, and its release once every unit is read; how a lost or detached holder
// ends or continues the source's reads.
#include <spdlog/spdlog.h>

#include <string>

#include "engine/common/via.hpp"
#include "engine/copy/detail/steps.hpp"
#include "engine/copy/source_job.hpp"

namespace pghaul::engine {

using steps::since;

// The holder's connection reaches the source through the agent's link: a
// link that drops would end its transaction, and the snapshot every other
// reader imports, with it. The agent keeps that session's server end open
// for as long as this run retries lost connections (its --max-hold caps it).
void source_job::ask_agent_to_hold() {
    std::string why;
    auto session = hold_through_link(cfg_.endpoint, holder_->connection(), run_.retry_window, why);
    if (session.empty()) {
        warn("the agent at " + cfg_.endpoint.via.address + " does not hold the snapshot's session for a dropped link (" +
             why + "): if the link drops, the copy stops and --resume finishes it");
        return;
    }
    std::lock_guard lk(snapshot_mu_);
    agent_hold_ = std::move(session);
}

void source_job::release_snapshot() {
    // The agent is told first (outside the lock: a round trip over the
    // link), so that the holder's close below is not taken for a dropped link.
    std::string held;
    {
        std::lock_guard lk(snapshot_mu_);
        if (holder_reading_) {  // a read on the lent session: end_read releases it
            release_deferred_ = true;
            return;
        }
        held = std::exchange(agent_hold_, {});
        holder_detached_ = false;
    }
    release_hold(cfg_.endpoint, held);
    std::lock_guard lk(snapshot_mu_);
    if (!holder_) return;
    if (holder_reading_) {
        release_deferred_ = true;
        return;
    }
    release_holder_locked(!held.empty());
}

void source_job::release_holder_locked(bool held_by_agent) {
    release_deferred_ = false;
    try {
        holder_->connection().exec("COMMIT", "releasing the source snapshot");
    } catch (const error& e) {
        // Its link dropped while it sat idle and the agent, just told to let
        // go, has ended its transaction: every read is done, nothing is lost.
        if (!held_by_agent) throw;
        spdlog::debug("[{}] the snapshot's session, held by the agent: {}", cfg_.name, first_line(e.what()));
    }
    retire_holder_locked();
    outcome_.update([](outcome_fields& o) { o.snapshot_released = std::chrono::steady_clock::now(); });
}

void source_job::lose_holder_locked() {
    (agent_hold_.empty() ? holder_lost_ : holder_detached_) = true;
    retire_holder_locked();
}

void source_job::retire_holder_locked() {
    if (holder_lent_)
        released_holder_ = std::move(holder_);  // the worker still points at its connection
    else
        holder_.reset();
}

pg::connection* source_job::lend_snapshot_session() {
    std::lock_guard lk(snapshot_mu_);
    if (!holder_ || holder_lent_) return nullptr;
    holder_lent_ = true;
    return &holder_->connection();
}

void source_job::return_snapshot_session() noexcept {
    std::lock_guard lk(snapshot_mu_);
    holder_lent_ = false;
    released_holder_.reset();
    if (!holder_) return;
    if (holder_reading_) {  // the read failed, or its load did before it ended
        holder_reading_ = false;
        try {
            holder_->connection().exec("ROLLBACK TO SAVEPOINT pghaul_read; RELEASE SAVEPOINT pghaul_read",
                                       "rolling back a failed read on the snapshot session");
            if (release_deferred_) release_holder_locked();
        } catch (const std::exception&) {
            lose_holder_locked();  // its transaction, and so the snapshot, is gone: later reads say so
        }
    }
    if (drop_deferred_) holder_.reset();
}

void source_job::end_read(pg::connection& reader, const std::string& what) {
    {
        std::lock_guard lk(snapshot_mu_);
        if (holder_reading_ && holder_ && &holder_->connection() == &reader) {
            reader.exec("RELEASE SAVEPOINT pghaul_read", what);
            holder_reading_ = false;
            if (release_deferred_) release_holder_locked();
            return;
        }
    }
    reader.exec("COMMIT", what);
}

bool source_job::can_read_again() const {
    std::lock_guard lk(snapshot_mu_);
    return holder_ != nullptr || holder_detached_;
}

void source_job::begin_read(pg::connection& reader, std::size_t table) {
    const auto& t = cat_.tables.at(table);
    {
        std::lock_guard lk(snapshot_mu_);
        // Released once every unit was read (unit_read): a unit read again
        // now is one whose load on the target failed, so the target is to blame.
        if (!holder_ && holder_lost_) throw snapshot_gone(t, "");
        if (!holder_ && !holder_detached_)
            throw error(exit_code::target,
                        "cannot load " + t.display() +
                            " again after its write to the target failed: the source snapshot was released "
                            "once every table had been read",
                        "run the same command with --resume: it loads again what did not commit", {},
                        disposition::resume_later);
        if (holder_ && holder_lent_ && &holder_->connection() == &reader) {
            // Already in the snapshot: a savepoint, so a failed read leaves its transaction usable.
            try {
                reader.exec("SAVEPOINT pghaul_read; SELECT pg_catalog.set_config('search_path', '', true)",
                            "starting the read of " + t.display() + " on the snapshot session");
            } catch (const error& e) {
                lose_holder_locked();  // its connection or transaction is gone, and the snapshot with it
                if (holder_detached_) throw;  // held by the agent: a retry imports it on a new reader
                throw snapshot_gone(t, e.sqlstate());
            }
            holder_reading_ = true;
            return;
        }
    }
    try {
        import_snapshot(reader, snapshot_id_);
    } catch (const error& e) {
        // 22023 "invalid snapshot identifier": the session holding it ended
        // (terminated, or the source restarted); 55000 "could not import the
        // requested snapshot": it is ending (its file still there, its process
        // gone; seen in the suite). No later read can match the tables already
        // copied, so the rest waits for --resume.
        constexpr std::string_view ending = "could not import the requested snapshot";
        const bool gone =
            e.sqlstate() == "22023" ||
            (e.sqlstate() == "55000" && std::string_view(e.what()).find(ending) != std::string_view::npos);
        if (!gone) throw;
        throw snapshot_gone(t, e.sqlstate());
    }
}

error source_job::snapshot_gone(const table_info& t, const std::string& sqlstate) const {
    return error(
        exit_code::source,
        "cannot read " + t.display() + ": the source snapshot " + snapshot_id_ +
            " is gone (the session holding it on " + source_endpoint_ + " ended, or the server restarted)",
        cfg_.snapshot.empty()
            ? "run the same command with --resume: it keeps what was loaded and reads the rest from a new "
              "snapshot"
            : "take a new snapshot, then run the same command with --resume --snapshot <new id>",
        sqlstate, disposition::resume_later);
}

void source_job::expect_reads(std::size_t units) {
    std::lock_guard lk(snapshot_mu_);
    reads_expected_ = units;
}

// The source's part is over once every unit has been read (what is left drains
// from memory and spool into the target): its snapshot and locks go at once
// instead of when the last load commits, unless something still needs them:
// large objects (read in finish), the end-of-copy verification, a retry.
void source_job::unit_read(std::uint32_t table, std::int64_t first_page) {
    {
        std::lock_guard lk(snapshot_mu_);
        units_read_.emplace(table, first_page);
        if (units_read_.size() < reads_expected_ || (!holder_ && !holder_detached_)) return;
        if (run_.verify != run_config::verify_level::none || !cat_.large_objects.empty()) return;
    }
    release_snapshot();
    spdlog::info("[{}] every table read: source snapshot released after {:.1f} s", cfg_.name,
                 since(outcome_.started()));
}

}  // namespace pghaul::engine
