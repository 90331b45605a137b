#!/usr/bin/env bash
# Fails when an #include crosses a module boundary the wrong way. The
# libraries' link order says the same, but a header-only include would slip
# past the linker; this check makes the direction in docs/ARCHITECTURE.md a
# test.
#
#   protocol <- io <- engine/common <- engine/catalog <- {verify, audit, clients}
#   engine/copy may use common, catalog and verify; report uses protocol only;
#   cli may use everything.
set -euo pipefail
cd "$(dirname "$0")/.."

# folder, then the include prefixes it may use (besides the std and system ones)
rules=(
    "protocol|protocol/"
    "io|protocol/ io/"
    "engine/common|protocol/ io/ engine/common/"
    "engine/catalog|protocol/ io/ engine/common/ engine/catalog/"
    "engine/verify|protocol/ io/ engine/common/ engine/catalog/ engine/verify/"
    "engine/audit|protocol/ io/ engine/common/ engine/catalog/ engine/audit/"
    "engine/clients|protocol/ io/ engine/common/ engine/clients/"
    "engine/report|protocol/ engine/report/"
    "engine/copy|protocol/ io/ engine/common/ engine/catalog/ engine/verify/ engine/copy/"
)

bad=0
for rule in "${rules[@]}"; do
    dir=${rule%%|*}
    read -r -a allowed <<<"${rule#*|}"
    while IFS=: read -r file line inc; do
        target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$inc")
        ok=0
        for prefix in "${allowed[@]}"; do
            [[ "$target" == "$prefix"* ]] && ok=1
        done
        if [ "$ok" = 0 ]; then
            echo "$file:$line: $dir must not include \"$target\"" >&2
            bad=1
        fi
    done < <(grep -rn --include='*.cpp' --include='*.hpp' '^#include "' "$dir" || true)
done
[ "$bad" = 0 ] && echo "layers: every include points the right way"
exit "$bad"
