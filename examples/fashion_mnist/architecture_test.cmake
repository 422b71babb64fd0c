# CTest script: a trial program run alone (--param) must chain its own
# checkpoints exactly and refuse a checkpoint of another architecture.
#   cmake -DTRIAL=<fmnist_trial> -DWORK_DIR=<dir> -P architecture_test.cmake
#   cmake -DPYTHON=/usr/bin/python3 -DTRIAL=<trial.py> -DPYTHONPATH=<python/> ...

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
if(PYTHON)
  # trial.py keeps standalone checkpoints in ./checkpoints.
  set(ENV{PYTHONPATH} ${PYTHONPATH})
  set(TRIAL ${PYTHON} ${TRIAL})
  set(where "")
else()
  set(where --checkpoint-dir ${WORK_DIR}/checkpoints)
endif()
set(common --epochs 1 --train-subset 200 --test-subset 200 ${where}
  --param learning_rate=0.05 --param momentum=0.9 --param dropout=0.1 --param batch_size=32)

execute_process(COMMAND ${TRIAL} ${common} --hidden 32 --param save_to=parent
  WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "training the parent failed (${rc}):\n${out}\n${err}")
endif()
string(REGEX MATCH "saved [^\n]* (crc32:[0-9a-f]+)" _ "${out}")
set(saved_crc ${CMAKE_MATCH_1})

execute_process(COMMAND ${TRIAL} ${common} --hidden 32 --param load_from=parent
  WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "loading the parent's checkpoint failed (${rc}):\n${out}\n${err}")
endif()
string(REGEX MATCH "loaded parent at epoch 1 (crc32:[0-9a-f]+)" _ "${out}")
if(saved_crc STREQUAL "" OR NOT CMAKE_MATCH_1 STREQUAL saved_crc)
  message(FATAL_ERROR "the child did not start from the parent's weights "
    "(saved '${saved_crc}', loaded '${CMAKE_MATCH_1}'):\n${out}")
endif()
if(NOT out MATCHES "epoch 2: test accuracy")
  message(FATAL_ERROR "the child did not continue at epoch 2:\n${out}")
endif()

execute_process(COMMAND ${TRIAL} ${common} --hidden 64 --param load_from=parent
  WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 3 OR NOT err MATCHES "holds a 784-32-32-10 MLP, but this trial builds 784-64-64-10")
  message(FATAL_ERROR "a 784-32-32-10 checkpoint loaded into 784-64-64-10 must be refused "
    "with exit code 3, got ${rc}:\n${out}\n${err}")
endif()
message(STATUS "parent ${saved_crc} chained; other architecture refused: ${err}")
