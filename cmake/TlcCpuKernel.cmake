# tlc_cpu_kernel_in(<dir> <outputs-var> <name> <source.tl> [NAME=VALUE ...] [--flag ...])
# Compiles <source.tl> for the CPU target at build time into <dir>/<name>.so
# (+ <name>.manifest.json) and appends the .so to the list <outputs-var> in
# the caller's scope. NAME=VALUE items become `-D NAME=VALUE`; items starting
# with -- are passed to tlc as they are. Used by the CPU-target tests
# (test/unit/cpu) and the ports (test/ports).
function(tlc_cpu_kernel_in dir outvar name source)
  set(so ${dir}/${name}.so)
  set(defines)
  foreach(d ${ARGN})
    if(d MATCHES "^--")
      list(APPEND defines ${d})
    else()
      list(APPEND defines -D ${d})
    endif()
  endforeach()
  add_custom_command(
    OUTPUT ${so} ${dir}/${name}.manifest.json
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND $<TARGET_FILE:tlc> ${source} --target cpu --emit so ${defines} -o ${so}
    DEPENDS tlc ${source}
    COMMENT "tlc --target cpu ${name}"
    VERBATIM)
  set(${outvar} ${${outvar}} ${so} PARENT_SCOPE)
endfunction()
