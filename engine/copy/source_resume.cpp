// What an earlier attempt left and what this one does about it: the state
// journal (engine/journal.hpp) decides whether the target database is
// refused, dropped for a restart or continued, and which of its steps stand.
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "engine/copy/source_job.hpp"
#include "engine/copy/target_database.hpp"
#include "protocol/sql_quote.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {

// All of the DDL a copy runs, to tell whether the source's schema changed
// between an interrupted attempt and its resume.
std::string source_job::schema_hash(const schema_plan& s) {
    std::string all;
    for (auto* list : {&s.pre_data, &s.post_data, &s.acl, &s.database})
        for (auto& e : *list) all += e.sql;
    for (auto& [oid, post] : s.per_table) {
        for (auto& e : post.indexes) all += e.sql;
        for (auto& e : post.after) all += e.sql;
    }
    for (auto& fk : s.foreign_keys) all += fk.add.sql;
    return text_hash(all);
}

std::string source_job::step_key(const dump_entry& e) {
    return sql::readable_qualified(e.schema, e.name);
}

// A journal left by an earlier run decides what this one does with the
// target database: refuse (the default: never silently destroy its traces),
// drop it and start over (--restart), or continue in it (--resume).
bool source_job::settle_earlier_attempt(pg::connection& maint, bool dry_run) {
    journal_path_ = journal::path_for(run_.state_dir, server_conninfo(), cfg_.target_db);
    earlier_ = journal::read(journal_path_);
    using mode = run_config::earlier_state;
    if (!earlier_) {
        if (run_.earlier == mode::resume)
            spdlog::info("[{}] nothing to resume for \"{}\" (no state in {}): copying from the start",
                         cfg_.name, cfg_.target_db, journal_path_.string());
        return true;
    }
    if (journal::in_use(journal_path_)) throw journal::busy_error(journal_path_);
    const bool exists = database_exists(maint, cfg_.target_db);
    auto forget = [&] {
        if (!dry_run) std::filesystem::remove(journal_path_);
        earlier_.reset();
    };
    // A database the earlier run finished (its other sources did not): the
    // same command run again leaves it as it is and redoes only the rest;
    // on_existing replace copies it again, skip skips it as any existing one.
    if (run_.earlier == mode::refuse && earlier_->done && exists &&
        !marked_incomplete(maint, cfg_.target_db)) {
        if (run_.existing != on_existing::replace) {
            spdlog::info(
                "[{}] \"{}\" was finished by an earlier run: left as it is (--on-existing replace "
                "copies it again)",
                cfg_.name, cfg_.target_db);
            outcome_.skip_because("finished by an earlier run: left as it is");
            return false;  // its state stays until the whole run succeeds
        }
        spdlog::info("[{}] \"{}\" was finished by an earlier run", cfg_.name, cfg_.target_db);
        forget();
        return true;
    }
    if (run_.earlier == mode::refuse)
        throw error(exit_code::preflight,
                    "an earlier run into \"" + cfg_.target_db + "\" on " + maint.endpoint() +
                        " stopped before it was done" + "; its state is in " + journal_path_.string(),
                    "run the same command with --resume to continue it, or with --restart to drop its "
                    "unfinished database and start over");
    const auto oid = exists ? database_oid(maint, cfg_.target_db) : 0;
    const bool same = earlier_->database_oid == 0 || earlier_->database_oid == oid;  // 0: an older journal
    if (run_.earlier == mode::restart) {
        // --restart starts the unfinished over and never drops a finished one.
        if (earlier_->done && exists && same && run_.existing != on_existing::replace &&
            !marked_incomplete(maint, cfg_.target_db)) {
            spdlog::info("[{}] \"{}\" was finished by an earlier run: left as it is", cfg_.name,
                         cfg_.target_db);
            outcome_.skip_because("finished by an earlier run: left as it is");
            return false;
        }
        if (exists && same && marked_incomplete(maint, cfg_.target_db)) {
            if (!dry_run) drop_database(maint, cfg_.target_db);
            drop_unprepared_ = dry_run;  // the plan treats it as gone
            restart_drops_ = dry_run;
            spdlog::info("[{}] --restart: {} the unfinished database \"{}\"", cfg_.name,
                         dry_run ? "would drop" : "dropped", cfg_.target_db);
        }
        forget();
        return true;
    }
    if (earlier_->done && exists) {
        spdlog::info("[{}] \"{}\" was finished by an earlier attempt: nothing to resume", cfg_.name,
                     cfg_.target_db);
        outcome_.skip_because("finished by an earlier attempt: nothing to resume");
        return false;
    }
    if (!earlier_->created || !exists) {
        spdlog::info("[{}] the earlier attempt left no database \"{}\": copying from the start", cfg_.name,
                     cfg_.target_db);
        forget();
    } else if (!same) {
        throw error(
            exit_code::preflight,
            "\"" + cfg_.target_db + "\" on " + maint.endpoint() +
                " is not the database the interrupted run created (it was dropped and created again)",
            "it is not pghaul's to continue or drop: choose another target_db, or drop it yourself and "
            "run with --restart");
    } else if (!earlier_->prepared) {
        drop_unprepared_ = true;  // it died creating the schema: prepare() starts that over
    } else {
        resuming_ = true;
        db_oid_ = oid;
    }
    return true;
}

// On resume: the load-time grants the earlier attempt gave (explicit CREATE
// on public; the source's own grants arrive only with the ACLs in finish()).
void source_job::recover_temporary_grants(pg::connection& ddl) {
    if (schema_opt_.no_owner) return;
    for (auto& source_role : cat_.owner_roles) {
        const std::string role = cfg_.target_role(source_role);
        auto r = ddl.exec_params(
            "SELECT FROM pg_namespace n, aclexplode(n.nspacl) a JOIN pg_roles g ON g.oid = a.grantee "
            "WHERE n.nspname = 'public' AND a.privilege_type = 'CREATE' AND g.rolname = $1",
            {role}, "checking role \"" + role + "\" on schema public");
        if (r.rows() > 0) temporary_public_grants_.emplace_back(source_role, role);
    }
}

void source_job::open_journal(const std::string& source_endpoint) {
    if (!resuming_) std::filesystem::remove(journal_path_);  // an unprepared attempt's: starts over
    journal_ = std::make_unique<journal>(journal_path_);
    record("start", {{"source", source_endpoint}, {"snapshot", snapshot_id_}, {"resume", resuming_}});
}

void source_job::record(const std::string& event, nlohmann::json fields) {
    if (journal_) journal_->record(event, std::move(fields));
}

void source_job::record_all(std::vector<std::pair<std::string, nlohmann::json>> records) {
    if (journal_) journal_->record_all(std::move(records));
}

void source_job::note(const std::string& event, nlohmann::json fields) {
    note_all({{event, std::move(fields)}});
}

void source_job::note_all(std::vector<std::pair<std::string, nlohmann::json>> records) {
    if (journal_) journal_->note_all(std::move(records));
}

// Continues in the database an earlier attempt prepared: its recorded table
// loads stand if the rows are still there; a split table with a part missing
// is emptied for a whole reload (its parts committed separately, and one may
// have committed unrecorded). Everything not kept is read in this attempt's
// snapshot, which the log and the report name.
void source_job::resume_prepared(pg::connection& ddl) {
    // The killed attempt's sessions may still be running a statement (the
    // server notices a vanished client only when it next talks to it): they
    // would race this attempt's. The journal's lock says their process is gone.
    ddl.exec(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND application_name LIKE 'pghaul/%'",
        "ending the interrupted attempt's sessions");
    const bool finished = earlier_->finished || !marked_incomplete(ddl, cfg_.target_db);
    finished_earlier_ = finished;
    recover_temporary_grants(ddl);
    std::size_t reloads = 0;
    for (auto& t : cat_.tables) {
        const auto name = t.display();
        std::optional<journal_state::table_load> load;
        if (t.parts.empty()) {
            if (auto it = earlier_->tables.find(name); it != earlier_->tables.end()) load = it->second;
        } else if (auto it = earlier_->parts.find(name); it != earlier_->parts.end()) {
            const bool all = std::all_of(t.parts.begin(), t.parts.end(),
                                         [&](auto& p) { return it->second.contains(p.first); });
            if (all && it->second.size() == t.parts.size()) {
                load.emplace();
                for (auto& [first, part] : it->second) {
                    load->rows += part.rows;
                    load->snapshot = part.snapshot;
                }
            }
        }
        if (load && !finished) {
            auto n = static_cast<std::uint64_t>(
                ddl.exec("SELECT count(*) FROM " + t.rows_of(), "re-counting " + t.display()).i64(0, 0));
            if (n != load->rows) {
                warn(fmt::format(
                    "{}: {} rows on the target, {} recorded by the earlier attempt: loading it again", name,
                    n, load->rows));
                load.reset();
            }
        }
        if (load) {
            kept_.insert(t.oid);
            table_result r;
            r.rows = load->rows;
            r.snapshot = load->snapshot;
            r.earlier = true;
            outcome_.update([&](outcome_fields& o) { o.results[t.oid] = r; });
            continue;
        }
        ++reloads;
        if (!t.parts.empty()) {
            ddl.exec("TRUNCATE " + t.rows_of(), "emptying " + name + " for its reload");
            record("reset", {{"table", name}});
        }
    }
    if (finished) {
        spdlog::info("[{}] resuming \"{}\": the earlier attempt finished the copy", cfg_.name,
                     cfg_.target_db);
        return;
    }
    std::string msg =
        fmt::format("resuming \"{}\" (attempt {}): {} of {} tables kept from the earlier attempt",
                    cfg_.target_db, earlier_->attempts + 1, kept_.size(), cat_.tables.size());
    // The snapshots the kept tables were read in: after several attempts not
    // only the first's.
    std::set<std::string> kept_in;
    outcome_.read([&](const outcome_fields& o) {
        for (auto oid : kept_)
            if (auto it = o.results.find(oid); it != o.results.end() && !it->second.snapshot.empty())
                kept_in.insert(it->second.snapshot);
    });
    kept_in.erase(snapshot_id_);
    std::string others;
    for (auto& id : kept_in) others += (others.empty() ? "" : ", ") + id;
    if (reloads > 0)
        msg += fmt::format(
            ", {} loaded now in snapshot {}{}", reloads, snapshot_id_,
            others.empty()
                ? ""
                : " (the kept tables were read in " + others +
                      ": the copy mixes points in time; --snapshot ID with a held snapshot avoids it)");
    if (reloads > 0 && !others.empty())
        warn(msg);
    else
        spdlog::info("[{}] {}", cfg_.name, msg);
}

const schema_plan::table_post_data* source_job::post_of(const table_info& t) const {
    auto it = schema_.per_table.find(t.oid);
    return it == schema_.per_table.end() ? nullptr : &it->second;
}

bool source_job::step_done(const dump_entry& e) const {
    return earlier_ && earlier_->steps.contains(step_key(e));
}

bool source_job::step_done(const schema_plan::foreign_key& fk) const {
    return earlier_ && earlier_->steps.contains("fk " + step_key(fk.add));
}

bool source_job::attached_earlier(const table_info& t) const {
    return earlier_ && earlier_->attached.contains(t.display());
}

// An index, constraint or other object of that name exists (see sqlstate.hpp).
bool source_job::committed_before(const error& e, bool redo) const {
    return (resuming_ || redo) && sqlstate::already_exists(e);
}

void source_job::forget_state() noexcept {
    if (journal_)
        journal_->remove();
    else if (earlier_)
        journal::remove_file(journal_path_);
}

}  // namespace pghaul::engine
