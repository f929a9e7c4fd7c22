# Sourced by the scripts that compile test-kernel variants outside CMake
# (test/ports/dev.sh, test/models/deepseek_v4/dev.sh, scripts/gpu-v4.sh).
#
# each_variant <list.cmake> <macro> <dir-variable> <dir> <callback> [no-arch]
# For every line `<macro>(<module> ${<dir-variable>}/<file>.tl [NAME=VALUE|--flag ...])` of the
# list, calls `<callback> <module> <dir>/<file>.tl <tlc flags...>`, NAME=VALUE becoming
# `-D NAME=VALUE`; with no-arch, `--arch=...` flags are dropped (a GPU build is its own
# architecture).
each_variant() {
  local list=$1 macro=$2 var=$3 dir=$4 cb=$5 noarch=${6:-}
  grep -E "^\s*$macro\(" "$list" | while read -r line; do
    local args words flags=() w
    args=$(sed -E "s/^\s*$macro\((.*)\)\s*$/\1/" <<<"$line")
    read -r -a words <<<"$args"
    for w in "${words[@]:2}"; do
      case "$w" in
      --arch=*) [ -n "$noarch" ] || flags+=("$w") ;;
      --*) flags+=("$w") ;;
      *) flags+=(-D "$w") ;;
      esac
    done
    "$cb" "${words[0]}" "${words[1]/\$\{$var\}/$dir}" "${flags[@]}"
  done
}
