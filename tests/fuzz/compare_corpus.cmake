# compare_corpus.cmake — run GENERATOR (make_fuzz_corpus) into OUTPUT and fail
# unless its gen-* files are exactly the committed ones under EXPECTED (same
# names, same bytes). A protocol change that leaves the seeds stale (an
# envelope that no longer opens, a message that no longer decrypts) would
# silently make the fuzzers shallower: run tests/fuzz/make_corpus.sh.
file(REMOVE_RECURSE "${OUTPUT}")
execute_process(COMMAND "${GENERATOR}" "${OUTPUT}" RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${GENERATOR} exited with ${rc}")
endif()
file(GLOB_RECURSE generated RELATIVE "${OUTPUT}" "${OUTPUT}/*/gen-*")
file(GLOB_RECURSE committed RELATIVE "${EXPECTED}" "${EXPECTED}/*/gen-*")
list(SORT generated)
list(SORT committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "the generated seed files differ from the committed ones: run tests/fuzz/make_corpus.sh")
endif()
foreach(f ${generated})
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUTPUT}/${f}" "${EXPECTED}/${f}"
                  RESULT_VARIABLE diff)
  if(NOT diff EQUAL 0)
    message(FATAL_ERROR "regenerated ${f} differs from the committed seed: run tests/fuzz/make_corpus.sh")
  endif()
endforeach()
list(LENGTH generated n)
message(STATUS "${n} seed files, identical")
