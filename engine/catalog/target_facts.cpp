// What the target login may do, asked of the target (see the header).
#include "engine/catalog/target_facts.hpp"

#include "protocol/sqlstate.hpp"

namespace pghaul::engine {

bool may_create_event_triggers(pg::connection& conn) {
    try {
        conn.exec(
            "BEGIN; CREATE FUNCTION pg_temp.pghaul_probe() RETURNS event_trigger LANGUAGE plpgsql AS "
            "$$BEGIN END$$; CREATE EVENT TRIGGER pghaul_probe ON ddl_command_end "
            "EXECUTE FUNCTION pg_temp.pghaul_probe()",
            "asking whether the target login may create event triggers");
        conn.exec("ROLLBACK", "rolling the event-trigger probe back");
        return true;
    } catch (const error& e) {
        conn.rollback();
        return !sqlstate::insufficient_privilege(e);
    }
}

}  // namespace pghaul::engine
