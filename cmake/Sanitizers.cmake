# ASan + UBSan for the whole tree (CI builds the tests this way).
set(_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
add_compile_options(${_san})
add_link_options(${_san})
